"""Decision trees as inline SVG with no crossing edges and every label whole inside the picture.

The nodes stand in one column, in the order the rule reads (rule_text.DecisionGraph.order). An edge
to the next node is a short arrow straight down; every other edge is an orthogonal bracket on the
side of the column: "yes" on the right, "no" on the left, swapped for a test under an odd number of
nots (`flipped`), whose "yes" goes where the others' "no" goes. In that order the right-hand edges
of a rule graph never interleave (no a < c < b < d with a->b and c->d), nor do the left-hand ones:
each all-of, any-of or not is one contiguous run of nodes whose right-hand exits all go to one node
after the run, and whose left-hand exits all go to one node after the run. So the brackets on one
side nest, and giving the inner bracket the inner lane draws them without crossing.
Where a node has several bracket ends on one side, arrivals sit above departures and inner ones
above outer ones, so no horizontal leg crosses another bracket's vertical leg.

Labels wrap instead of being cut; a label longer than MAX_LINES lines ends in an ellipsis, and the
full text is the node's tooltip. Text widths are estimated per character (text_width), generously,
since the page cannot measure: the browser tests check the estimate against real glyphs.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .svg import CHAR_WIDTH, FILLS, GraphNode

# 11px sans-serif (DejaVu Sans, Debian's default): most characters fit CHAR_WIDTH; capitals need
# more, and m, w, M, W, wide (CJK) characters and emoji up to a full em and a little.
_CAPITAL = 9.0
_FULL_WIDTH = 12.0

WRAP = 34  # characters per line of a node label
MAX_LINES = 6
LINE_HEIGHT = 14
PAD_X = 14  # text to box edge, each side
PAD_Y = 8
GAP = 30  # vertical space between two boxes
SLOT = 10  # vertical space per bracket end on a box side
FIRST_LANE = 30  # box column edge to the innermost lane: room for a "yes" or "no" label
LANE_GAP = 12
MARGIN = 10
EDGE_FONT = 10  # px; an edge label's box is len * EDGE_CHAR wide and EDGE_FONT high
EDGE_CHAR = 6.0
_INK = 'fill="none" stroke="#57606a" stroke-width="1.2"'


@dataclass
class Box:
    """A label's text box, for the layout's own checks and the tests."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass
class TreeLayout:
    width: float
    height: float
    boxes: dict[str, Box] = field(default_factory=dict)  # node id -> its shape
    segments: list[list[tuple[float, float]]] = field(default_factory=list)  # one polyline per edge
    labels: list[Box] = field(default_factory=list)  # every text box: node lines and edge labels
    parts: list[str] = field(default_factory=list)


def text_width(text: str) -> float:
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F") or ord(ch) > 0xFFFF or ch in "mwMW@%&":
            width += _FULL_WIDTH
        elif ch.isupper():
            width += _CAPITAL
        else:
            width += CHAR_WIDTH
    return width


def wrap(label: str) -> list[str]:
    lines = textwrap.wrap(label, WRAP, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][: WRAP - 1] + "\u2026"
    return lines


@dataclass
class _Arc:
    source: str
    target: str
    text: str
    side: int  # +1 right, -1 left
    lane: int = 0


def _arcs(
    order: Sequence[str], edges: Sequence[tuple[str, str, str]], flipped: Collection[str]
) -> tuple[list[_Arc], list[_Arc]]:
    """Split the edges into straight arrows to the next node and side brackets with their lanes."""
    pos = {node: i for i, node in enumerate(order)}
    straight: list[_Arc] = []
    brackets: list[_Arc] = []
    used_below: set[str] = set()
    for source, target, text in edges:
        if source not in pos or target not in pos:
            continue
        if pos[target] == pos[source] + 1 and source not in used_below:
            used_below.add(source)
            straight.append(_Arc(source, target, text, 0))
        else:
            brackets.append(_Arc(source, target, text, -1 if (text == "no") != (source in flipped) else 1))
    for side in (-1, 1):
        mine = sorted(
            (a for a in brackets if a.side == side), key=lambda a: abs(pos[a.target] - pos[a.source])
        )
        for i, arc in enumerate(mine):
            lo, hi = sorted((pos[arc.source], pos[arc.target]))
            inner = [
                b.lane
                for b in mine[:i]
                if lo <= min(pos[b.source], pos[b.target]) and max(pos[b.source], pos[b.target]) <= hi
            ]
            arc.lane = max(inner, default=0) + 1
    return straight, brackets


def _ends(order: Sequence[str], brackets: list[_Arc]) -> dict[tuple[str, int], list[tuple[_Arc, bool]]]:
    """Per node and side, its bracket ends top to bottom: arrivals inner first, then departures outer
    first (see the module docstring for why)."""
    ends: dict[tuple[str, int], list[tuple[_Arc, bool]]] = {}
    for arc in brackets:
        ends.setdefault((arc.target, arc.side), []).append((arc, True))
        ends.setdefault((arc.source, arc.side), []).append((arc, False))
    for items in ends.values():
        items.sort(key=lambda item: (0, item[0].lane) if item[1] else (1, -item[0].lane))
    return ends


def layout_tree(
    nodes: Sequence[GraphNode],
    edges: Sequence[tuple[str, str, str]],
    order: Sequence[str],
    flipped: Collection[str] = (),
) -> TreeLayout:
    by_id = {n.id: n for n in nodes}
    order = [i for i in order if i in by_id] + [n.id for n in nodes if n.id not in order]
    straight, brackets = _arcs(order, edges, flipped)
    ends = _ends(order, brackets)
    lines = {i: wrap(by_id[i].label) for i in order}
    half = max(max(text_width(line) for line in lines[i]) / 2 + PAD_X for i in order)
    lanes = {s: max((a.lane for a in brackets if a.side == s), default=0) for s in (-1, 1)}

    def reach(side: int) -> float:
        return half + (FIRST_LANE + (lanes[side] - 1) * LANE_GAP if lanes[side] else 0) + MARGIN

    centre_x = reach(-1)
    tree = TreeLayout(width=math.ceil(reach(-1) + reach(1)), height=0)
    y = MARGIN
    for i in order:
        n_ends = max(len(ends.get((i, s), [])) for s in (-1, 1))
        height = max(len(lines[i]) * LINE_HEIGHT + 2 * PAD_Y, (n_ends + 1) * SLOT)
        w = max(text_width(line) for line in lines[i]) + 2 * PAD_X
        tree.boxes[i] = Box(centre_x - w / 2, y, w, height)
        y += height + GAP
    tree.height = math.ceil(y - GAP + MARGIN)
    for i in order:
        tree.parts += _node(tree, by_id[i], lines[i])
    for arc in straight:
        tree.parts += _straight(tree, arc)
    ys = {}
    for (node, _side), items in ends.items():
        box = tree.boxes[node]
        for k, (arc, arriving) in enumerate(items):
            ys[(id(arc), arriving)] = box.y + (k + 1) * box.height / (len(items) + 1)
    for arc in brackets:
        tree.parts += _bracket(
            tree, arc, centre_x + arc.side * (half + FIRST_LANE + (arc.lane - 1) * LANE_GAP), ys
        )
    return tree


def _node(tree: TreeLayout, node: GraphNode, lines: list[str]) -> list[str]:
    box = tree.boxes[node.id]
    fill, stroke = FILLS.get(node.style, FILLS["neutral"])
    radius = box.height / 2 if node.shape == "round" else (10 if node.shape == "diamond" else 3)
    parts = [
        f"<g><title>{escape(node.label)}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
        f'rx="{min(radius, box.height / 2):.0f}" fill="{fill}" stroke="{stroke}"/>',
    ]
    top = box.y + (box.height - len(lines) * LINE_HEIGHT) / 2
    for k, line in enumerate(lines):
        width = text_width(line)
        text_box = Box(box.x + box.width / 2 - width / 2, top + k * LINE_HEIGHT, width, LINE_HEIGHT)
        tree.labels.append(text_box)
        parts.append(
            f'<text x="{box.x + box.width / 2:.1f}" y="{text_box.y + 11:.1f}" text-anchor="middle">'
            f"{escape(line)}</text>"
        )
    parts.append("</g>")
    return parts


def _edge_label(tree: TreeLayout, text: str, x: float, y: float) -> str:
    """A "yes"/"no" label whose text box starts at (x, y) top-left."""
    if not text:
        return ""
    box = Box(x, y, len(text) * EDGE_CHAR, EDGE_FONT + 2)
    tree.labels.append(box)
    return f'<text x="{x:.1f}" y="{y + EDGE_FONT:.1f}" class="edge-label">{escape(text)}</text>'


def _straight(tree: TreeLayout, arc: _Arc) -> list[str]:
    source, target = tree.boxes[arc.source], tree.boxes[arc.target]
    x = source.x + source.width / 2
    points = [(x, source.bottom), (x, target.y)]
    tree.segments.append(points)
    return [
        f'<path d="M{x:.1f},{source.bottom:.1f} V{target.y:.1f}" {_INK} marker-end="url(#MARKER)"/>',
        _edge_label(tree, arc.text, x + 4, source.bottom + (GAP - EDGE_FONT) / 2 - 1),
    ]


def _bracket(tree: TreeLayout, arc: _Arc, lane_x: float, ys: dict) -> list[str]:
    source, target = tree.boxes[arc.source], tree.boxes[arc.target]
    y1, y2 = ys[(id(arc), False)], ys[(id(arc), True)]
    x1 = source.right if arc.side > 0 else source.x
    x2 = target.right if arc.side > 0 else target.x
    points = [(x1, y1), (lane_x, y1), (lane_x, y2), (x2, y2)]
    tree.segments.append(points)
    # The label sits just under the departing leg, between the box and the lane: nothing else is there.
    width = len(arc.text) * EDGE_CHAR
    label_x = x1 + 3 if arc.side > 0 else x1 - 3 - width
    return [
        f'<path d="M{x1:.1f},{y1:.1f} H{lane_x:.1f} V{y2:.1f} H{x2:.1f}" {_INK} marker-end="url(#MARKER)"/>',
        _edge_label(tree, arc.text, label_x, y1 + 1),
    ]


def decision_tree(
    nodes: Sequence[GraphNode],
    edges: Sequence[tuple[str, str, str]],
    order: Sequence[str],
    flipped: Collection[str] = (),
    *,
    key: str,
    title: str,
) -> Markup:
    """The decision graph as SVG; `key` makes the arrow marker id unique within the page."""
    if not nodes:
        return Markup("")
    tree = layout_tree(nodes, edges, order, flipped)
    marker = escape(f"arrow-{key}")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram tree" role="img" viewBox="0 0 '
        f'{tree.width:.0f} {tree.height:.0f}" width="{tree.width:.0f}" height="{tree.height:.0f}">'
        f"<title>{escape(title)}</title>"
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/>'
        "</marker></defs>"
    )
    body = "".join(tree.parts).replace("url(#MARKER)", f"url(#{marker})")
    return Markup(head + body + "</svg>")
