"""Rule trees in plain language: a nested outline, and a decision graph for the diagrams.

The decision graph is a chain of yes/no tests, one per condition: an all-of continues on "yes" and
stops on "no", an any-of continues on "no" and stops on "yes", and a not swaps the two exits. It
answers for people what the SQL answers for machines, in the same order of conditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Profile
from ..model.rules import AllOf, AnyOf, NotOf, RuleNode
from ..rules.tree import nodes

# Beyond this many rule nodes a diagram stops being readable; the outline and SQL still show all.
MAX_DIAGRAM_NODES = 80
MAX_INLINE_DEPTH = 64
_UNITS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_PHRASES = {
    "eq": "is",
    "ne": "is not",
    "lt": "is less than",
    "lte": "is at most",
    "gt": "is greater than",
    "gte": "is at least",
    "contains": "contains",
    "before": "is before",
    "after": "is after",
}


def duration_words(value: str) -> str:
    """'14d' -> '14 days'; cadence words such as 'hourly' are returned as they are."""
    unit = _UNITS.get(value[-1:]) if value[:-1].isdigit() else None
    if unit is None:
        return value.replace("_", " ")
    amount = int(value[:-1])
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def value_words(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def condition_words(node: Any) -> str:
    op, attr = node.op, node.attr
    if op in _PHRASES:
        return f"{attr} {_PHRASES[op]} {value_words(node.value)}"
    if op in ("in", "not_in"):
        shown = ", ".join(value_words(v) for v in node.value[:20])
        more = f" and {len(node.value) - 20} more" if len(node.value) > 20 else ""
        return f"{attr} {'is one of' if op == 'in' else 'is none of'} {shown}{more}"
    if op == "is_null":
        return f"{attr} is missing"
    if op == "is_not_null":
        return f"{attr} is present"
    if op == "between":
        return f"{attr} is between {value_words(node.value[0])} and {value_words(node.value[1])}"
    if op == "within_last":
        return f"{attr} is within the last {duration_words(node.value)}"
    if op == "not_within_last":
        return f"{attr} is not within the last {duration_words(node.value)} (or is in the future)"
    return f"{attr} {op} {value_words(getattr(node, 'value', ''))}"


def outline(node: RuleNode) -> list[tuple[int, str]]:
    """(depth, text) lines of a nested list: combinators say 'all of' / 'any of' / 'not', leaves speak."""
    lines: list[tuple[int, str]] = []
    # An explicit stack: rule trees may be deeper than Python's recursion limit.
    stack: list[tuple[RuleNode, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, AllOf | AnyOf):
            children = current.all if isinstance(current, AllOf) else current.any
            if len(children) == 1:
                stack.append((children[0], depth))
                continue
            word = "all of" if isinstance(current, AllOf) else "any of"
            lines.append((depth, f"{word} these {len(children)} conditions:"))
            stack.extend((child, depth + 1) for child in reversed(children))
        elif isinstance(current, NotOf):
            lines.append((depth, "not the following:"))
            stack.append((current.not_, depth + 1))
        else:
            lines.append((depth, condition_words(current)))
    return lines


@dataclass
class DecisionNode:
    id: str
    kind: str  # "start", "test" or "outcome"
    label: str
    tone: str = "neutral"  # outcome colouring: "good", "bad" or "neutral"


@dataclass
class DecisionGraph:
    nodes: list[DecisionNode] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    tests: int = 0
    too_large: bool = False
    order: list[str] = field(default_factory=list)  # reading order, for tree_svg: see decision_graph
    # Tests under an odd number of nots: their "yes" leads where an even test's "no" would (tree_svg).
    flipped: set[str] = field(default_factory=set)

    def add(self, kind: str, label: str, tone: str = "neutral") -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(DecisionNode(node_id, kind, label, tone))
        return node_id


def _count_nodes(node: RuleNode | None) -> int:
    return sum(1 for _ in nodes(node))


def _tests(graph: DecisionGraph, node: RuleNode, yes: str, no: str, flipped: bool = False) -> str:
    """Add the tests of `node` so that a true rule reaches `yes`, a false one `no`; return the entry."""
    if isinstance(node, AllOf):
        entry = yes
        for child in reversed(node.all):
            entry = _tests(graph, child, entry, no, flipped)
        return entry
    if isinstance(node, AnyOf):
        entry = no
        for child in reversed(node.any):
            entry = _tests(graph, child, yes, entry, flipped)
        return entry
    if isinstance(node, NotOf):
        return _tests(graph, node.not_, no, yes, not flipped)
    test = graph.add("test", condition_words(node))
    graph.tests += 1
    if flipped:
        graph.flipped.add(test)
    graph.edges.append((test, yes, "yes"))
    graph.edges.append((test, no, "no"))
    return test


def decision_graph(profile: Profile) -> DecisionGraph:
    """The profile's verdict as yes/no tests: eligibility (rule and/or score), then suppression."""
    graph = DecisionGraph()
    size = _count_nodes(profile.eligibility) + _count_nodes(profile.suppression)
    if size > MAX_DIAGRAM_NODES:
        return DecisionGraph(tests=size, too_large=True)
    start = graph.add("start", profile.name)
    member = graph.add("outcome", "member: gets this profile", "good")
    suppressed = graph.add("outcome", "suppressed: removed", "bad")
    not_eligible = graph.add("outcome", "not eligible", "neutral")
    after_eligible = (
        _tests(graph, profile.suppression, suppressed, member) if profile.suppression is not None else member
    )
    score_test = None
    if profile.scoring is not None and profile.eligible_by != "rule":
        score_test = graph.add("test", f"score is at least {value_words(profile.scoring.threshold)}")
        graph.tests += 1
    mode = profile.eligible_by if score_test is not None else "rule"
    if mode == "score":
        entry = score_test
        graph.edges += [(score_test, after_eligible, "yes"), (score_test, not_eligible, "no")]
    else:
        rule_yes, rule_no = after_eligible, not_eligible
        if mode == "rule_and_score":
            rule_yes = score_test
            graph.edges += [(score_test, after_eligible, "yes"), (score_test, not_eligible, "no")]
        elif mode == "rule_or_score":
            rule_no = score_test
            graph.edges += [(score_test, after_eligible, "yes"), (score_test, not_eligible, "no")]
        entry = (
            _tests(graph, profile.eligibility, rule_yes, rule_no)
            if profile.eligibility is not None
            else rule_yes
        )
    graph.edges.insert(0, (start, entry, ""))
    # _tests creates the tests of an all-of or any-of last child first, so the reverse of creation
    # is reading order: each combinator's tests form one contiguous run, which tree_svg relies on.
    # Suppression was created first and eligibility last, so they read eligibility, score, suppression.
    tests = [n.id for n in graph.nodes if n.kind == "test"]
    graph.order = [start, *reversed(tests), member, suppressed, not_eligible]
    return graph


def mermaid(graph: DecisionGraph, label) -> str:
    """Mermaid flowchart text; `label` escapes a label for Mermaid."""
    lines = ["flowchart TD"]
    shapes = {"start": ('(["', '"])'), "test": ('{"', '"}'), "outcome": ('["', '"]')}
    for node in graph.nodes:
        left, right = shapes[node.kind]
        lines.append(f"  {node.id}{left}{label(node.label)}{right}")
    for source, target, text in graph.edges:
        arrow = f" -- {text} --> " if text else " --> "
        lines.append(f"  {source}{arrow}{target}")
    for tone in ("good", "bad"):
        ids = [n.id for n in graph.nodes if n.tone == tone]
        if ids:
            lines.append(f"  class {','.join(ids)} {tone}")
    lines.append("  classDef good fill:#d7f5dd,stroke:#1a7f37")
    lines.append("  classDef bad fill:#ffe1e0,stroke:#cf222e")
    return "\n".join(lines)


def inline(node: RuleNode, limit: int = 400) -> str:
    """The rule on one line, with 'and', 'or' and 'not' and brackets where they nest."""
    text = _inline(node, top=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _inline(node: RuleNode, top: bool = False, depth: int = 0) -> str:
    if depth > MAX_INLINE_DEPTH:  # deeper than the rules layer allows; never recurse without bound
        return "..."
    if isinstance(node, AllOf | AnyOf):
        children = node.all if isinstance(node, AllOf) else node.any
        if len(children) == 1:
            return _inline(children[0], top, depth + 1)
        joined = (" and " if isinstance(node, AllOf) else " or ").join(
            _inline(c, False, depth + 1) for c in children
        )
        return joined if top else f"({joined})"
    if isinstance(node, NotOf):
        return f"not {_inline(node.not_, False, depth + 1)}"
    return condition_words(node)
