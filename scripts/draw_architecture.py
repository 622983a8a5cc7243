"""Draw blina's layers and the imports between them, from the code, as an SVG.

The rows are the layers of import-linter's layers contract in pyproject.toml (top: may
import everything below; bottom: the domain, which imports nothing of blina). Each box is
a package or module of that layer, with its size; each arrow is the direct imports from
one box into another, with their count. An arrow that breaks a contract of
pyproject.toml (an upward import, one between two independent siblings, or one a
forbidden contract names) is drawn red. The import graph comes from grimp, the library
import-linter itself uses, so the picture and the check read the same graph.

Run by ``scripts/draw-architecture``; writes ``docs/design/architecture.svg``. Plain
Python, no graphviz: the layout is the layers' order.
"""

import argparse
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import grimp

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "design" / "architecture.svg"

# Drawing sizes, in pixels.
CHAR = 7.3  # a character of the 12-px monospace font
BOX_H = 44
ROW_GAP = 70
BOX_GAP = 36
MARGIN = 24
LEGEND_H = 80
COLOURS = {"allowed": "#90a4ae", "planned": "#ef6c00", "breaks": "#c62828"}
# The target rule of docs/design/architecture.md that pyproject.toml does not state yet:
# the outer layers reach storage only through the services. Its arrows are drawn orange
# until they are gone; once a forbidden contract holds a pair, the contract's red takes
# over and the pair may leave this list.
PLANNED_FORBIDDEN: set[tuple[str, str]] = set()  # none left: the contracts hold them all


@dataclass(frozen=True)
class Box:
    name: str  # a dotted module name, "blina.services"
    row: int
    x: float
    width: float
    modules: int
    lines: int

    @property
    def y(self) -> float:
        return MARGIN + self.row * (BOX_H + ROW_GAP)

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


NOTES = {
    "allowed": "allowed",
    "planned": "the target rule removes it",
    "breaks": "breaks a contract",
}


def read_contracts(pyproject: Path) -> tuple[list[list[str]], set[tuple[str, str]]]:
    """The layers of the top-level layers contract (not one inside a container), top
    first, each a list of independent siblings; and the (source, forbidden) pairs of
    blina's forbidden contracts."""
    contracts = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]["contracts"]
    layers: list[list[str]] = []
    forbidden: set[tuple[str, str]] = set()
    for contract in contracts:
        if contract["type"] == "layers" and "containers" not in contract:
            layers = [[part.strip() for part in layer.split("|")] for layer in contract["layers"]]
        elif contract["type"] == "forbidden":
            for source in contract["source_modules"]:
                for target in contract["forbidden_modules"]:
                    if target.startswith("blina."):
                        forbidden.add((source, target))
    return layers, forbidden


def owner(module: str, names: list[str]) -> str | None:
    """The box a module belongs to: the longest box name that is it or contains it."""
    found = [n for n in names if module == n or module.startswith(n + ".")]
    return max(found, key=len) if found else None


def imports_between(graph: grimp.ImportGraph, names: list[str]) -> Counter[tuple[str, str]]:
    """How many direct module imports go from each box into each other box."""
    counts: Counter[tuple[str, str]] = Counter()
    for module in graph.modules:
        source = owner(module, names)
        if source is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = owner(imported, names)
            if target is not None and target != source:
                counts[(source, target)] += 1
    return counts


def sizes(graph: grimp.ImportGraph, name: str) -> tuple[int, int]:
    """A box's modules and lines of Python."""
    package = ROOT / "src" / Path(*name.split("."))
    files = sorted(package.rglob("*.py")) if package.is_dir() else [package.with_suffix(".py")]
    lines = sum(len(f.read_text().splitlines()) for f in files)
    return len(files), lines


def breaks(
    source: str, target: str, layers: list[list[str]], forbidden: set[tuple[str, str]]
) -> bool:
    """Whether an import from ``source`` into ``target`` breaks a contract."""
    row = {name: i for i, layer in enumerate(layers) for name in layer}
    if row[source] > row[target] or (row[source] == row[target] and source != target):
        return True
    return any(
        (source == s or source.startswith(s + ".")) and (target == t or target.startswith(t + "."))
        for s, t in forbidden
    )


def layout(graph: grimp.ImportGraph, layers: list[list[str]]) -> tuple[list[Box], float]:
    """Boxes row by row, each row centred; and the drawing's width."""
    rows: list[list[tuple[str, float, int, int]]] = []
    for layer in layers:
        row = []
        for name in layer:
            modules, lines = sizes(graph, name)
            label = max(len(_short(name)), len(_detail(modules, lines)))
            row.append((name, label * CHAR + 24, modules, lines))
        rows.append(row)
    width = max(sum(w for _, w, _, _ in row) + BOX_GAP * (len(row) - 1) for row in rows)
    width += 2 * MARGIN
    boxes = []
    for i, row in enumerate(rows):
        x = (width - sum(w for _, w, _, _ in row) - BOX_GAP * (len(row) - 1)) / 2
        for name, w, modules, lines in row:
            boxes.append(Box(name, i, x, w, modules, lines))
            x += w + BOX_GAP
    return boxes, width


def draw(
    boxes: list[Box],
    width: float,
    counts: Counter[tuple[str, str]],
    layers: list[list[str]],
    forbidden: set[tuple[str, str]],
) -> str:
    by_name = {box.name: box for box in boxes}
    height = MARGIN * 2 + len(layers) * BOX_H + (len(layers) - 1) * ROW_GAP + LEGEND_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, monospace" '
        'font-size="12">',
        "<title>blina: layers and the imports between them</title>",
        "<defs>"
        + "".join(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for name, colour in COLOURS.items()
        )
        + "</defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    # Ports: a box's outgoing arrows leave its bottom edge in the order of their targets'
    # places, and incoming ones reach its top edge in the order of their sources', so
    # that arrows cross as little as a straight line allows.
    outgoing: dict[str, list[str]] = {}
    incoming: dict[str, list[str]] = {}
    for source, target in counts:
        outgoing.setdefault(source, []).append(target)
        incoming.setdefault(target, []).append(source)

    def port(box: Box, others: list[str], other: str) -> float:
        ordered = sorted(others, key=lambda name: (by_name[name].centre, name))
        return box.x + box.width * (ordered.index(other) + 1) / (len(ordered) + 1)

    def kind_of(pair: tuple[str, str]) -> str:
        if breaks(*pair, layers, forbidden):
            return "breaks"
        return "planned" if pair in PLANNED_FORBIDDEN else "allowed"

    order = list(COLOURS)
    # allowed first, so that the arrows to notice are drawn over them; then by name, so
    # that the same code always gives the same file
    for (source, target), count in sorted(
        counts.items(), key=lambda e: (order.index(kind_of(e[0])), e[0])
    ):
        a, b = by_name[source], by_name[target]
        kind = kind_of((source, target))
        x1 = port(a, outgoing[source], target)
        x2 = port(b, incoming[target], source)
        if a.row < b.row:
            y1, y2 = a.y + BOX_H, b.y
        else:  # upward or sideways: from the top of the source to the bottom of the target
            y1, y2 = a.y, b.y + BOX_H
        bend = (y2 - y1) / 2
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} "
        path += f"{x2:.1f},{y2:.1f}"
        # 1 to 3 imports a hairline, up to 10 a line, more a thick one
        stroke = 0.8 if count <= 3 else 1.6 if count <= 10 else 2.6
        dash = ' stroke-dasharray="6 3"' if kind == "planned" else ""
        out.append(
            f'<path d="{path}" fill="none" stroke="{COLOURS[kind]}" stroke-width="{stroke}"'
            f'{dash} marker-end="url(#arrow-{kind})">'
            f"<title>{escape(source)} imports {escape(target)}: {count} imports "
            f"({NOTES[kind]})</title></path>"
        )
    for box in boxes:
        fill = "#e3f2fd" if box.name != "blina.domain" else "#e8f5e9"
        out.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{BOX_H}" '
            f'rx="6" fill="{fill}" stroke="#37474f"/>'
        )
        out.append(
            f'<text x="{box.centre:.1f}" y="{box.y + 18:.1f}" text-anchor="middle" '
            f'font-weight="bold">{escape(_short(box.name))}</text>'
        )
        out.append(
            f'<text x="{box.centre:.1f}" y="{box.y + 34:.1f}" text-anchor="middle" '
            f'font-size="10" fill="#546e7a">{_detail(box.modules, box.lines)}</text>'
        )
    legend_y = height - LEGEND_H + 8
    notes = [
        "Rows: the layers contract of pyproject.toml, top first; a box imports only boxes "
        "in rows below it.",
        "Arrows: direct imports; thin 1-3, medium up to 10, thick more (the count in each "
        "arrow's tooltip).",
        "Grey: allowed. Orange, dashed: the target rule removes it (api | web -> store). "
        "Red: breaks a contract.",
        "Drawn from the code by scripts/draw-architecture (grimp, as import-linter reads it).",
    ]
    for i, note in enumerate(notes):
        out.append(
            f'<text x="{MARGIN}" y="{legend_y + 16 * i:.1f}" font-size="11" fill="#37474f">'
            f"{escape(note)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _short(name: str) -> str:
    return name.removeprefix("blina.")


def _detail(modules: int, lines: int) -> str:
    return f"{modules} module{'s' if modules != 1 else ''}, {lines:,} lines"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    layers, forbidden = read_contracts(ROOT / "pyproject.toml")
    graph = grimp.build_graph("blina", cache_dir=None)
    boxes, width = layout(graph, layers)
    counts = imports_between(graph, [box.name for box in boxes])
    args.out.write_text(draw(boxes, width, counts, layers, forbidden))
    bad = sorted(pair for pair in counts if breaks(*pair, layers, forbidden))
    planned = sorted(pair for pair in counts if pair in PLANNED_FORBIDDEN and pair not in bad)
    print(
        f"{args.out}: {len(boxes)} boxes, {len(counts)} arrows, {len(bad)} breaking a "
        f"contract, {len(planned)} the target rule removes"
    )
    for source, target in bad + planned:
        print(f"  {source} -> {target} ({counts[(source, target)]} imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
