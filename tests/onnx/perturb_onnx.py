"""Writes a copy of an ONNX model whose float initializers are perturbed in place.

    python3 tests/onnx/perturb_onnx.py IN.onnx OUT.onnx PHASE

Each float32 value x of every initializer stored as raw_data becomes x·(1 + 0.01·sin(i + PHASE))
(i its index in the tensor), so copies with different phases are distinct models of the same
graph whose differences from the original point in different directions: a plane through three
of them is a plane, not a line. Signs are kept (batch-norm variances stay positive) and no length
changes, so the protobuf is edited where it lies, without an ONNX library.
"""
import math
import struct
import sys


def varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(data, start, end):
    """(field number, wire type, value start, value end) of each field in data[start:end]."""
    pos = start
    while pos < end:
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, after = varint(data, pos)
        elif wire == 1:
            after = pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            after = pos + length
        elif wire == 5:
            after = pos + 4
        else:
            raise ValueError('unsupported wire type %d' % wire)
        yield number, wire, pos, after
        pos = after


def perturb(data, phase):
    changed = 0
    for number, wire, start, end in fields(data, 0, len(data)):
        if number != 7 or wire != 2:  # ModelProto.graph
            continue
        for g_number, g_wire, g_start, g_end in fields(data, start, end):
            if g_number != 5 or g_wire != 2:  # GraphProto.initializer
                continue
            data_type, raw = None, None
            for t_number, t_wire, t_start, t_end in fields(data, g_start, g_end):
                if t_number == 2 and t_wire == 0:  # TensorProto.data_type
                    data_type, _ = varint(data, t_start)
                if t_number == 9 and t_wire == 2:  # TensorProto.raw_data
                    raw = (t_start, t_end)
            if data_type != 1 or raw is None:  # FLOAT only
                continue
            count = (raw[1] - raw[0]) // 4
            values = struct.unpack_from('<%df' % count, data, raw[0])
            new = [x * (1 + 0.01 * math.sin(i + phase)) for i, x in enumerate(values)]
            struct.pack_into('<%df' % count, data, raw[0], *new)
            changed += 1
    if changed == 0:
        raise SystemExit('no float initializer stored as raw_data')
    return data


if __name__ == '__main__':
    source, target, phase = sys.argv[1], sys.argv[2], float(sys.argv[3])
    data = perturb(bytearray(open(source, 'rb').read()), phase)
    open(target, 'wb').write(bytes(data))
