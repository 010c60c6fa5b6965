"""Inline SVG drawn by our own code: layered graphs (dependencies, decision trees) and heatmaps.

Every piece of text goes through markupsafe.escape, so a label can never become markup. Layout is
a plain longest-path layering: good enough for the small graphs a plan has, and deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW_GAP = 70
COLUMN_GAP = 24
BOX_HEIGHT = 36
CHAR_WIDTH = 6.6
MAX_LABEL = 40
FILLS = {
    "stage": ("#ddf4ff", "#0969da"),
    "team": ("#fff8c5", "#9a6700"),
    "start": ("#f6f8fa", "#57606a"),
    "test": ("#ffffff", "#57606a"),
    "good": ("#d7f5dd", "#1a7f37"),
    "bad": ("#ffe1e0", "#cf222e"),
    "neutral": ("#eaeef2", "#57606a"),
}


@dataclass
class GraphNode:
    id: str
    label: str
    style: str  # a key of FILLS
    shape: str = "box"  # "box", "round" or "diamond"


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _layers(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str, str]]) -> dict[str, int]:
    """Longest path from the sources; nodes on a cycle are placed after the rest, in input order."""
    ids = [n.id for n in nodes]
    incoming = dict.fromkeys(ids, 0)
    outgoing: dict[str, list[str]] = {i: [] for i in ids}
    for source, target, _ in edges:
        if source in incoming and target in incoming and source != target:
            outgoing[source].append(target)
            incoming[target] += 1
    layer = dict.fromkeys(ids, 0)
    ready = [i for i in ids if incoming[i] == 0]
    done: set[str] = set()
    while ready:
        current = ready.pop(0)
        done.add(current)
        for target in outgoing[current]:
            layer[target] = max(layer[target], layer[current] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    deepest = max((layer[i] for i in done), default=-1)
    for i in ids:
        if i not in done:
            deepest += 1
            layer[i] = deepest
    return layer


@dataclass
class _Layout:
    layer: dict[str, int]  # node id -> row, top first
    widths: dict[str, float]  # node id -> box width
    centre: dict[str, tuple[float, float]]  # node id -> (x, y) of the box's centre
    width: float
    height: float


def _layout(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str, str]]) -> _Layout:
    """Each layer is a row of boxes, centred on the widest row; box widths follow their labels."""
    layer = _layers(nodes, edges)
    rows: dict[int, list[GraphNode]] = {}
    for node in nodes:
        rows.setdefault(layer[node.id], []).append(node)
    widths = {n.id: min(MAX_LABEL, len(n.label)) * CHAR_WIDTH + 28 for n in nodes}
    row_widths = {r: sum(widths[n.id] for n in row) + COLUMN_GAP * (len(row) - 1) for r, row in rows.items()}
    width = max(row_widths.values()) + 40
    centre: dict[str, tuple[float, float]] = {}
    for r, row in sorted(rows.items()):
        x = (width - row_widths[r]) / 2
        for node in row:
            centre[node.id] = (x + widths[node.id] / 2, 30 + r * (BOX_HEIGHT + ROW_GAP) + BOX_HEIGHT / 2)
            x += widths[node.id] + COLUMN_GAP
    height = 30 + (max(rows) + 1) * (BOX_HEIGHT + ROW_GAP)
    return _Layout(layer, widths, centre, width, height)


def _graph_header(layout: _Layout, title: str, marker: str) -> list[str]:
    width, height = layout.width, layout.height
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}">',
        f"<title>{escape(title)}</title>",
        f'<defs><marker id="{escape(marker)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/>'
        "</marker></defs>",
    ]


def _edge_svg(layout: _Layout, source: str, target: str, text: str, marker: str) -> list[str]:
    """The arrow from `source` to `target`, and its label when it has one."""
    (x1, y1), (x2, y2) = layout.centre[source], layout.centre[target]
    half = BOX_HEIGHT / 2
    if layout.layer[target] > layout.layer[source]:
        path = f"M{x1:.1f},{y1 + half:.1f} L{x2:.1f},{y2 - half:.1f}"
        # Labels sit near the source, so a long edge's "yes" or "no" stays beside its test.
        reach = min(0.5, 45 / max(1.0, y2 - y1))
        mid = (x1 + (x2 - x1) * reach, y1 + half + (y2 - y1 - 2 * half) * reach)
    else:  # a back edge (a cycle) or a same-row edge: curve around the side
        bend = max(x1, x2) + layout.widths[source] / 2 + 40
        path = f"M{x1:.1f},{y1:.1f} C{bend:.1f},{y1:.1f} {bend:.1f},{y2:.1f} {x2:.1f},{y2 - half:.1f}"
        mid = (bend - 10, (y1 + y2) / 2)
    parts = [
        f'<path d="{path}" fill="none" stroke="#57606a" stroke-width="1.2" marker-end="url(#{marker})"/>'
    ]
    if text:
        parts.append(f'<text x="{mid[0] + 4:.1f}" y="{mid[1]:.1f}" class="edge-label">{escape(text)}</text>')
    return parts


def _node_svg(layout: _Layout, node: GraphNode) -> list[str]:
    """The node's shape and its (shortened) label; the full label is its tooltip."""
    x, y = layout.centre[node.id]
    w = layout.widths[node.id]
    fill, stroke = FILLS.get(node.style, FILLS["neutral"])
    parts = [f"<g><title>{escape(node.label)}</title>"]
    if node.shape == "diamond":
        parts.append(
            f'<polygon points="{x - w / 2:.1f},{y:.1f} {x:.1f},{y - BOX_HEIGHT / 2 - 6:.1f} '
            f'{x + w / 2:.1f},{y:.1f} {x:.1f},{y + BOX_HEIGHT / 2 + 6:.1f}" fill="{fill}" '
            f'stroke="{stroke}"/>'
        )
    else:
        radius = BOX_HEIGHT / 2 if node.shape == "round" else 4
        parts.append(
            f'<rect x="{x - w / 2:.1f}" y="{y - BOX_HEIGHT / 2:.1f}" width="{w:.1f}" '
            f'height="{BOX_HEIGHT}" rx="{radius:.0f}" fill="{fill}" stroke="{stroke}"/>'
        )
    parts.append(
        f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">{escape(_short(node.label))}</text></g>'
    )
    return parts


def layered_graph(
    nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str, str]], *, key: str, title: str
) -> Markup:
    """A top-down graph; `key` makes the arrow marker id unique within the page."""
    if not nodes:
        return Markup("")
    layout = _layout(nodes, edges)
    marker = f"arrow-{key}"
    parts = _graph_header(layout, title, marker)
    for source, target, text in edges:
        # An edge to a node that is not drawn is dropped rather than pointing nowhere.
        if source in layout.centre and target in layout.centre:
            parts += _edge_svg(layout, source, target, text, marker)
    for node in nodes:
        parts += _node_svg(layout, node)
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(labels: Sequence[str], values: Sequence[Sequence[float | None]], *, title: str) -> Markup:
    """A square matrix of counts as coloured cells; darker means larger, an empty cell means unknown."""
    if not labels:
        return Markup("")
    cell, margin = 34, max(len(_short(label, 28)) for label in labels) * CHAR_WIDTH + 16
    size = margin + cell * len(labels) + 10
    width = size + margin * 0.5  # room for the last rotated column label
    peak = max((v for row in values for v in row if v is not None), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram heatmap" role="img" '
        f'viewBox="0 0 {width:.0f} {size:.0f}" width="{width:.0f}" height="{size:.0f}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, label in enumerate(labels):
        y = margin + i * cell + cell / 2 + 4
        parts.append(
            f'<text x="{margin - 6:.0f}" y="{y:.0f}" text-anchor="end">{escape(_short(label, 28))}</text>'
        )
        x = margin + i * cell + cell / 2
        parts.append(
            f'<text x="{x:.0f}" y="{margin - 6:.0f}" text-anchor="start" '
            f'transform="rotate(-60 {x:.0f} {margin - 6:.0f})">{escape(_short(label, 28))}</text>'
        )
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            x, y = margin + j * cell, margin + i * cell
            ink = "#1f2328"
            if value is None:
                fill, text = "#ffffff", ""
            else:
                shade = int(235 - 180 * (value / peak))
                fill, text = f"rgb({shade},{shade + 10 if shade < 245 else 245},255)", f"{value:g}"
                ink = "#ffffff" if shade < 130 else ink  # keep the count readable on dark cells
            parts.append(
                f"<g><title>{escape(labels[i])} \u00d7 {escape(labels[j])}: {escape(text or 'unknown')}"
                f'</title><rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                f'stroke="#d0d7de"/><text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" '
                f'text-anchor="middle" class="cell" style="fill: {ink}">{escape(_compact(value))}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _compact(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:g}"
