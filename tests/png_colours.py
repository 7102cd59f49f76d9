"""Checks that regions of PNG screenshots hold a picture, not a blank.

Usage: png_colours.py FILE:X0:Y0:X1:Y1:MIN_COLOURS ...
Each region (pixels, x0 ≤ x < x1, y0 ≤ y < y1) must hold at least MIN_COLOURS distinct colours.
A plain PNG decoder (8-bit RGB/RGBA, no interlace: what Chromium writes) on zlib alone.
"""
import struct
import sys
import zlib


def decode(path, last_row):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, f"{path}: unsupported PNG"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    rows, previous = [], bytes(stride)
    for y in range(min(height, last_row)):
        start = y * (stride + 1)
        line = unfilter(raw[start], raw[start + 1:start + 1 + stride], previous, channels)
        rows.append(line)
        previous = line
    return width, height, channels, rows


def unfilter(kind, line, previous, channels):
    """One scanline without its PNG filter; loops per pixel (not per byte) where it must."""
    if kind == 0:
        return bytes(line)
    if kind == 2:
        return bytes((x + b) & 255 for x, b in zip(line, previous))
    out = bytearray(line)
    n = len(out)
    for i in range(0, n, channels):
        for k in range(i, i + channels):
            a = out[k - channels] if i else 0
            b = previous[k]
            if kind == 1:
                out[k] = (out[k] + a) & 255
            elif kind == 3:
                out[k] = (out[k] + ((a + b) >> 1)) & 255
            else:
                c = previous[k - channels] if i else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                out[k] = (out[k] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return bytes(out)


failed = False
for spec in sys.argv[1:]:
    path, x0, y0, x1, y1, wanted = spec.rsplit(":", 5)
    x0, y0, x1, y1, wanted = map(int, (x0, y0, x1, y1, wanted))
    width, height, channels, rows = decode(path, y1)
    colours = set()
    for y in range(y0, min(y1, len(rows))):
        row = rows[y]
        for x in range(x0, min(x1, width)):
            colours.add(row[x * channels:x * channels + 3])
    print(f"{path}: {len(colours)} colours in ({x0},{y0})-({x1},{y1}) of {width}x{height}")
    failed |= len(colours) < wanted
sys.exit(1 if failed else 0)
