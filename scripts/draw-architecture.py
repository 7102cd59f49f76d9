#!/usr/bin/env python3
"""Draws docs/architecture.svg, the picture of Terrain's targets and their arrows, from the
package manifest itself (`swift package dump-package`), so the picture cannot drift from the
build: `make test` runs this with --check and fails when the committed picture is out of date.

    python3 scripts/draw-architecture.py            # rewrite docs/architecture.svg
    python3 scripts/draw-architecture.py --check    # exit 1 when it would change

Layout: a target sits one row above the highest of its dependencies, then rises to one row
below its lowest user, so every arrow points down and none is longer than it must be (system
libraries and C targets sit just under what uses them). Arrows are the transitive reduction
of the dependency graph: an arrow A -> C is left out when A reaches C through another target,
which keeps the picture readable and loses no information about what may import what.
Within a row, targets are ordered by the mean position of what they depend on (a few
barycentre sweeps), then a target is moved within its row wherever that lowers the number of
crossing arrows and of arrows passing behind a box.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "architecture.svg"

# What each kind of box looks like: fill, stroke.
STYLES: dict[str, tuple[str, str]] = {
    "system": ("#eeeeee", "#888888"),      # Debian's C libraries, through modulemaps
    "c": ("#f3ead7", "#a08850"),           # C code of our own
    "library": ("#dce8f7", "#4a74a8"),     # Swift targets of the `Terrain` library product
    "program": ("#dff0dc", "#4f8a46"),     # executables
    "server": ("#fbe3d3", "#b86a32"),      # linked only by the program (SwiftNIO)
    "package": ("#ffffff", "#aaaaaa"),     # other packages' products
}
LEGEND = [
    ("library", "library target (product Terrain)"),
    ("server", "program-only target"),
    ("program", "executable"),
    ("c", "C target"),
    ("system", "system library (Debian -dev)"),
    ("package", "another Swift package"),
]

FONT = 12
CHAR_WIDTH = 7.0   # DejaVu Sans at 12 px, a generous mean
BOX_HEIGHT = 26
ROW_GAP = 52
COLUMN_GAP = 14
MARGIN = 20
# An arrow hidden behind a box counts as this many crossings: it is worse, as it seems to end there.
BEHIND_WEIGHT = 3


@dataclass
class Node:
    name: str
    kind: str
    depends: list[str] = field(default_factory=list)
    row: int = 0
    x: float = 0.0

    @property
    def width(self) -> float:
        return len(self.name) * CHAR_WIDTH + 16


def manifest() -> dict:
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def dependency_name(entry: dict) -> tuple[str, bool]:
    """The box a manifest dependency entry points at, and whether it is another package: other
    packages' products are drawn as one box per package (its identity), not one per product."""
    (kind, value), = entry.items()
    if kind == "product":
        return value[1], True
    return value[0], False


def build_graph(package: dict) -> dict[str, Node]:
    library = set()
    for product in package["products"]:
        if "library" in product["type"]:
            library.update(product["targets"])
    nodes: dict[str, Node] = {}
    for target in package["targets"]:
        # Tests, and targets that only tests use (Tests/TerrainTestSupport), are not the program's layers.
        if target["type"] in ("test", "plugin", "macro") or (target.get("path") or "").startswith("Tests/"):
            continue
        name = target["name"]
        if target["type"] == "system":
            kind = "system"
        elif target["type"] == "executable":
            kind = "program"
        elif name.startswith("C"):
            kind = "c"
        elif name in library:
            kind = "library"
        else:
            kind = "server"
        node = Node(name, kind)
        for entry in target["dependencies"]:
            dep, is_product = dependency_name(entry)
            if is_product:
                nodes.setdefault(dep, Node(dep, "package"))
            if dep not in node.depends:
                node.depends.append(dep)
        nodes[name] = node
    return nodes


def reaches(nodes: dict[str, Node], start: str, goal: str, skip_direct: bool) -> bool:
    """Whether `goal` is reachable from `start` by a path of two or more arrows when skip_direct."""
    stack = [d for d in nodes[start].depends if not (skip_direct and d == goal)]
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        if current == goal:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack.extend(nodes[current].depends)
    return False


def reduce_transitively(nodes: dict[str, Node]) -> None:
    for node in nodes.values():
        node.depends = [d for d in dict.fromkeys(node.depends)
                        if not reaches(nodes, node.name, d, skip_direct=True)]


def assign_rows(nodes: dict[str, Node]) -> list[list[Node]]:
    memo: dict[str, int] = {}

    def height(name: str) -> int:
        if name not in memo:
            deps = nodes[name].depends
            memo[name] = 0 if not deps else 1 + max(height(d) for d in deps)
        return memo[name]

    for node in nodes.values():
        node.row = height(node.name)
    # Then every target that something uses rises to one row below its lowest user (top rows
    # first, so a user's row is final when its dependencies are placed): what depends on nothing
    # (other packages' products, system libraries, C targets) no longer fills the bottom row with
    # long arrows from high up, and a target used only high up (TerrainPlot) sits near its users.
    for node in sorted(nodes.values(), key=lambda n: -n.row):
        users = [n.row for n in nodes.values() if node.name in n.depends]
        if users:
            node.row = max(node.row, min(users) - 1)
    rows: list[list[Node]] = [[] for _ in range(max(n.row for n in nodes.values()) + 1)]
    for node in sorted(nodes.values(), key=lambda n: n.name):
        rows[node.row].append(node)
    return rows


def place(rows: list[list[Node]], nodes: dict[str, Node]) -> float:
    def used(row: list[Node]) -> float:
        return sum(n.width for n in row) + COLUMN_GAP * (len(row) - 1)

    # Every row is centred on the widest (whose width does not depend on the order), already while
    # the order is sought, so that crossings are counted on the picture as it will be drawn.
    width = max(used(row) for row in rows) + 2 * MARGIN

    def lay_out(row: list[Node]) -> None:
        x = (width - used(row)) / 2
        for node in row:
            node.x = x
            x += node.width + COLUMN_GAP

    for row in rows:
        lay_out(row)
    # Barycentre sweeps: upwards by dependencies, downwards by users.
    for _ in range(4):
        for row in rows[1:]:
            def centre(n: Node) -> float:
                xs = [nodes[d].x + nodes[d].width / 2 for d in n.depends]
                return sum(xs) / len(xs) if xs else n.x
            row.sort(key=centre)
            lay_out(row)
        for row in reversed(rows[:-1]):
            def user_centre(n: Node) -> float:
                xs = [u.x + u.width / 2 for u in nodes.values() if n.name in u.depends]
                return sum(xs) / len(xs) if xs else n.x
            row.sort(key=user_centre)
            lay_out(row)
    # Then moves of one target to another place in its row, kept only when they lower the count
    # of crossings (and of arrows behind boxes), until none does.
    best = crossings(nodes)
    improved = True
    while improved:
        improved = False
        for row in rows:
            for i in range(len(row)):
                for j in range(len(row)):
                    if i == j:
                        continue
                    original = row[:]
                    row.insert(j, row.pop(i))
                    lay_out(row)
                    count = crossings(nodes)
                    if count < best:
                        best, improved = count, True
                    else:
                        row[:] = original
                        lay_out(row)
    return width


def crossings(nodes: dict[str, Node]) -> int:
    """How many pairs of arrows cross, each arrow taken as the straight line between its two box
    centres (two arrows cross when their order along x flips between the top and the bottom of
    the rows they share), plus how many boxes an arrow passes behind."""
    edges = []
    for node in nodes.values():
        for dep in node.depends:
            target = nodes[dep]
            edges.append((node.row, node.x + node.width / 2, target.row, target.x + target.width / 2))

    def x_at(edge, row: float) -> float:
        top, x_top, bottom, x_bottom = edge
        return x_top + (x_bottom - x_top) * (top - row) / (top - bottom)

    count = 0
    for i, a in enumerate(edges):
        for b in edges[i + 1:]:
            high, low = min(a[0], b[0]), max(a[2], b[2])
            if high <= low:
                continue
            upper = x_at(a, high) - x_at(b, high)
            lower = x_at(a, low) - x_at(b, low)
            if upper * lower < 0:
                count += 1
    # An arrow that passes behind a box of a row between its ends is as confusing as a crossing.
    # Here the arrow is the curve `render` draws, sampled at the box's top, middle and bottom.
    pitch = BOX_HEIGHT + ROW_GAP
    for top, x_top, bottom, x_bottom in edges:
        y_start, y_end = -top * pitch + BOX_HEIGHT, -bottom * pitch
        for row in range(bottom + 1, top):
            for y in (-row * pitch, -row * pitch + BOX_HEIGHT / 2, -row * pitch + BOX_HEIGHT):
                x = x_top + (x_bottom - x_top) * curve_share((y - y_start) / (y_end - y_start))
                if any(n.row == row and n.x - COLUMN_GAP / 2 < x < n.x + n.width + COLUMN_GAP / 2
                       for n in nodes.values()):
                    count += BEHIND_WEIGHT
                    break
    return count


def curve_share(f: float) -> float:
    """How far along x the arrow's cubic Bézier (control points straight below and above its
    ends, at mid height) is when it is a share f of the way down: y(t) = 1.5t − 1.5t² + t³ is
    solved for t by bisection, and x(t) = 3t² − 2t³."""
    low, high = 0.0, 1.0
    for _ in range(40):
        t = (low + high) / 2
        if 1.5 * t - 1.5 * t * t + t ** 3 < f:
            low = t
        else:
            high = t
    t = (low + high) / 2
    return 3 * t * t - 2 * t ** 3


def legend_width() -> float:
    return MARGIN * 2 + sum(18 + len(label) * 6.2 + 18 for _, label in LEGEND) - 18


def render(nodes: dict[str, Node], rows: list[list[Node]], width: float) -> str:
    width = max(width, legend_width())
    top_row = len(rows) - 1
    legend_height = 24
    height = MARGIN * 2 + (top_row + 1) * BOX_HEIGHT + top_row * ROW_GAP + legend_height

    def y_of(node: Node) -> float:
        return MARGIN + (top_row - node.row) * (BOX_HEIGHT + ROW_GAP)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, sans-serif" font-size="{FONT}">',
        "<title>Terrain's targets: each arrow points from a target to one it depends on "
        "(transitive reduction); generated by scripts/draw-architecture.py</title>",
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#666"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    for node in sorted(nodes.values(), key=lambda n: n.name):
        for dep in node.depends:
            target = nodes[dep]
            x1, y1 = node.x + node.width / 2, y_of(node) + BOX_HEIGHT
            x2, y2 = target.x + target.width / 2, y_of(target)
            middle = (y1 + y2) / 2
            out.append(f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} {x2:.1f},{y2 - 1:.1f}" '
                       f'fill="none" stroke="#777" stroke-width="1" marker-end="url(#arrow)"/>')
    for node in sorted(nodes.values(), key=lambda n: n.name):
        fill, stroke = STYLES[node.kind]
        y = y_of(node)
        dash = ' stroke-dasharray="3,2"' if node.kind == "package" else ""
        out.append(f'<rect x="{node.x:.1f}" y="{y:.1f}" width="{node.width:.1f}" height="{BOX_HEIGHT}" rx="4" '
                   f'fill="{fill}" stroke="{stroke}"{dash}/>')
        out.append(f'<text x="{node.x + node.width / 2:.1f}" y="{y + BOX_HEIGHT / 2 + FONT / 3:.1f}" '
                   f'text-anchor="middle">{escape(node.name)}</text>')
    x = MARGIN
    y = height - MARGIN - 12
    for kind, label in LEGEND:
        fill, stroke = STYLES[kind]
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="14" height="12" rx="2" fill="{fill}" stroke="{stroke}"/>')
        out.append(f'<text x="{x + 18:.1f}" y="{y + 10:.1f}" font-size="11">{escape(label)}</text>')
        x += 18 + len(label) * 6.2 + 18
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/architecture.svg is out of date")
    args = parser.parse_args()
    nodes = build_graph(manifest())
    reduce_transitively(nodes)
    rows = assign_rows(nodes)
    width = place(rows, nodes)
    svg = render(nodes, rows, width)
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != svg:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date with Package.swift: "
                  "run python3 scripts/draw-architecture.py and commit it", file=sys.stderr)
            return 1
        print("architecture picture: up to date with Package.swift")
        return 0
    OUTPUT.write_text(svg)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
