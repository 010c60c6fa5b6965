"""Decision trees: no two edges cross, no edge runs through a box, and every label is whole.

Checked on the layout's own geometry (every edge polyline, every node box, every text box) for a
generated worst case (depth 6, long labels, wide fan-out, every scoring mode) and for random trees.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from personalization_engine.model import Profile
from personalization_engine.render.rule_text import MAX_DIAGRAM_NODES, decision_graph
from personalization_engine.render.svg import GraphNode
from personalization_engine.render.tree_svg import Box, TreeLayout, decision_tree, layout_tree

LONG_VALUE = "enterprise plan with a very long and descriptive name that nobody would shorten " * 2
UNBROKEN = "x" * 90
LONG_ATTR = "a_rather_long_attribute_name_for_when_a_person_last_did_it_ok"  # 62 characters


def leaf(i: int) -> dict:
    kinds = [
        {"op": "eq", "attr": LONG_ATTR, "value": LONG_VALUE},
        {"op": "in", "attr": f"attr_{i}", "value": [f"value number {k}" for k in range(20)]},
        {"op": "within_last", "attr": f"seen_{i}", "value": "14d"},
        {"op": "eq", "attr": f"token_{i}", "value": UNBROKEN},
        {"op": "is_null", "attr": f"a{i}"},
    ]
    return kinds[i % len(kinds)]


def worst_case(depth: int, fan_out: int, counter: itertools.count) -> dict:
    """A rule of exactly `depth` levels: all-of, any-of and not alternate, `fan_out` children each."""
    if depth == 1:
        return leaf(next(counter))
    level = depth % 3
    if level == 0:
        return {"not": worst_case(depth - 1, fan_out, counter)}
    children = [worst_case(depth - 1, fan_out, counter) for _ in range(fan_out)]
    return {"all": children} if level == 1 else {"any": children}


def profile(eligibility: dict | None, suppression: dict | None, eligible_by: str = "rule") -> Profile:
    scoring = {"conditions": [{"when": leaf(0), "weight": 10}], "threshold": 5}
    return Profile.model_validate(
        {
            "id": "p",
            "name": "A profile whose name is long enough to wrap onto a second line of its box",
            "eligibility": eligibility,
            "suppression": suppression,
            "scoring": scoring if eligible_by != "rule" else None,
            "eligible_by": eligible_by,
        }
    )


def drawn(p: Profile) -> TreeLayout:
    graph = decision_graph(p)
    assert not graph.too_large
    nodes = [
        GraphNode(
            n.id, n.label, n.tone if n.kind == "outcome" else n.kind, "diamond" if n.kind == "test" else "box"
        )
        for n in graph.nodes
    ]
    return layout_tree(nodes, graph.edges, graph.order, graph.flipped)


def _segments(points):
    return list(itertools.pairwise(points))


def _cross(s, t) -> bool:
    """Whether two axis-parallel or arbitrary segments share any point (touching counts)."""
    (ax, ay), (bx, by) = s
    (cx, cy), (dx, dy) = t

    def orient(px, py, qx, qy, rx, ry):
        v = (qx - px) * (ry - py) - (qy - py) * (rx - px)
        return 0 if abs(v) < 1e-9 else (1 if v > 0 else -1)

    def on(px, py, qx, qy, rx, ry):
        return (
            min(px, qx) - 1e-9 <= rx <= max(px, qx) + 1e-9 and min(py, qy) - 1e-9 <= ry <= max(py, qy) + 1e-9
        )

    o1, o2 = orient(ax, ay, bx, by, cx, cy), orient(ax, ay, bx, by, dx, dy)
    o3, o4 = orient(cx, cy, dx, dy, ax, ay), orient(cx, cy, dx, dy, bx, by)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and on(ax, ay, bx, by, cx, cy))
        or (o2 == 0 and on(ax, ay, bx, by, dx, dy))
        or (o3 == 0 and on(cx, cy, dx, dy, ax, ay))
        or (o4 == 0 and on(cx, cy, dx, dy, bx, by))
    )


def _inside(inner: Box, outer: Box) -> bool:
    return (
        inner.x >= outer.x - 1e-6
        and inner.y >= outer.y - 1e-6
        and inner.right <= outer.right + 1e-6
        and inner.bottom <= outer.bottom + 1e-6
    )


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _through(segment, box: Box) -> bool:
    """Whether a segment enters a box's interior (shrunk by a hair, so touching its edge is fine)."""
    (x1, y1), (x2, y2) = segment
    inner = Box(box.x + 0.5, box.y + 0.5, box.width - 1, box.height - 1)
    if x1 == x2:
        return inner.x < x1 < inner.right and min(y1, y2) < inner.bottom and max(y1, y2) > inner.y
    return inner.y < y1 < inner.bottom and min(x1, x2) < inner.right and max(x1, x2) > inner.x


def assert_clean(tree: TreeLayout) -> None:
    for (i, a), (j, b) in itertools.combinations(enumerate(tree.segments), 2):
        for s, t in itertools.product(_segments(a), _segments(b)):
            assert not _cross(s, t), f"edge {i} {a} crosses edge {j} {b}"
    for polyline in tree.segments:
        for box in tree.boxes.values():
            for segment in _segments(polyline):
                assert not _through(segment, box), f"edge {polyline} runs through the box at {box}"
    canvas = Box(0, 0, tree.width, tree.height)
    for label in tree.labels:
        assert _inside(label, canvas), (
            f"label box {label} is cut off by the picture ({tree.width}x{tree.height})"
        )
    for a, b in itertools.combinations(tree.labels, 2):
        assert not _overlap(a, b), f"labels overlap: {a} and {b}"
    for box in tree.boxes.values():
        assert _inside(box, canvas)


MODES = ("rule", "score", "rule_and_score", "rule_or_score")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fan_out", [2, 3])
def test_a_depth_six_tree_with_long_labels_and_wide_fan_out_draws_without_crossings_or_cut_labels(
    mode, fan_out
):
    counter = itertools.count()
    eligibility = worst_case(6, fan_out, counter)
    suppression = {"any": [leaf(next(counter)) for _ in range(6)]}
    p = profile(eligibility, suppression, mode)
    graph = decision_graph(p)
    if graph.too_large:
        pytest.skip("beyond MAX_DIAGRAM_NODES the report shows the outline instead of a diagram")
    tree = drawn(p)
    assert len(tree.boxes) == len(graph.nodes)
    assert_clean(tree)


def test_the_widest_drawable_tree_is_wide_at_the_top_and_still_clean():
    # Six children at the top, each an any-of of two nested branches and two leaves: depth 6, 80 nodes.
    counter = itertools.count()

    def branch() -> dict:
        return {"not": {"all": [{"any": [leaf(next(counter))]}, leaf(next(counter))]}}

    def child() -> dict:
        return {"any": [branch(), branch(), leaf(next(counter)), leaf(next(counter))]}

    p = profile({"all": [child() for _ in range(6)]}, leaf(next(counter)), "rule_or_score")
    graph = decision_graph(p)
    assert not graph.too_large and graph.tests > 35
    assert_clean(drawn(p))


def test_the_geometry_checks_catch_a_crossing_an_overlap_and_a_cut_off_label():
    tree = TreeLayout(width=100, height=100)
    tree.segments = [[(0, 50), (100, 50)], [(50, 0), (50, 100)]]
    with pytest.raises(AssertionError, match="crosses"):
        assert_clean(tree)
    tree.segments = []
    tree.labels = [Box(10, 10, 30, 10), Box(20, 15, 30, 10)]
    with pytest.raises(AssertionError, match="overlap"):
        assert_clean(tree)
    tree.labels = [Box(90, 10, 30, 10)]
    with pytest.raises(AssertionError, match="cut off"):
        assert_clean(tree)


def test_a_label_longer_than_the_box_holds_wraps_and_ends_in_an_ellipsis_with_the_full_text_as_tooltip():
    p = profile({"op": "eq", "attr": "plan", "value": "word " * 200}, None)
    graph = decision_graph(p)
    nodes = [GraphNode(n.id, n.label, "test") for n in graph.nodes]
    svg = str(decision_tree(nodes, graph.edges, graph.order, key="k", title="t"))
    assert "\u2026</text>" in svg
    assert f"<title>{escape(graph.nodes[-1].label)}</title>" in svg  # the test node, created last
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())
    tree = layout_tree(nodes, graph.edges, graph.order)
    assert (width, height) == (tree.width, tree.height)


rules = st.recursive(
    st.integers(0, 9).map(leaf),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=4).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=24,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.none() | rules, st.none() | rules, st.sampled_from(MODES))
def test_any_rule_tree_draws_without_crossings_or_overlapping_labels(eligibility, suppression, mode):
    p = profile(eligibility, suppression, mode)
    if decision_graph(p).too_large:
        return
    assert decision_graph(p).tests <= MAX_DIAGRAM_NODES
    assert_clean(drawn(p))
