"""Relations that every honest result row of the sizing query satisfies, whatever the data.

They follow from how query.py defines the counts: eligible and suppressed are two-valued, so a
profile's net (eligible and not suppressed) and removed (eligible and suppressed) add up to its
eligible; a winner is a member; an overlap is inside both members; an activation's net is its
profile's net; nothing passes a consent gate that did not reach it; no count exceeds the rows.
A count edited by hand, or a row from a query that someone changed, breaks at least one of them in
most cases. (They cannot prove a row honest: a consistent set of invented counts passes.)
"""

from __future__ import annotations

from typing import Any

from .query import SizingQuery, channel_key


def _at_most(values: dict[str, Any], small: str, large: str, problems: list[str]) -> None:
    if values[small] > values[large]:
        problems.append(f"{small} ({values[small]}) exceeds {large} ({values[large]})")


def _profile_problems(q: SizingQuery, v: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for i in range(len(q.profile_ids)):
        if v[f"net_{i}"] + v[f"removed_{i}"] != v[f"eligible_{i}"]:
            problems.append(
                f"net_{i} ({v[f'net_{i}']}) + removed_{i} ({v[f'removed_{i}']}) is not "
                f"eligible_{i} ({v[f'eligible_{i}']})"
            )
        _at_most(v, f"removed_{i}", f"suppressed_{i}", problems)
        _at_most(v, f"winner_{i}", f"net_{i}", problems)
    winners = sum(v[f"winner_{i}"] for i in range(len(q.profile_ids)))
    if winners > v["row_count"]:
        problems.append(f"the winners ({winners}) exceed row_count ({v['row_count']})")
    for i, j in q.pairs:
        _at_most(v, f"overlap_{i}_{j}", f"net_{i}", problems)
        _at_most(v, f"overlap_{i}_{j}", f"net_{j}", problems)
    return problems


def _activation_problems(q: SizingQuery, v: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    index_of = {pid: i for i, pid in enumerate(q.profile_ids)}
    for gate in q.gates:
        net = f"activation_net_{gate.index}"
        member = index_of.get(gate.activation.profile_id)
        expected = v[f"net_{member}"] if member is not None else 0
        if v[net] != expected:
            problems.append(f"{net} ({v[net]}) is not its profile's net ({expected})")
        _at_most(v, f"activatable_{gate.index}", net, problems)
    for channel in q.channels:
        key = channel_key(channel)
        _at_most(v, f"activatable_{key}", f"reachable_{key}", problems)
    return problems


def contradictions(query: SizingQuery, values: dict[str, Any]) -> list[str]:
    """Each broken relation, naming the output columns; empty when the row is consistent.

    `values` holds every output, counts as int (the newest_* times are not compared).
    """
    counts = [name for name in query.outputs if not name.startswith("newest_") and name != "row_count"]
    problems = [
        f"{name} ({values[name]}) exceeds row_count ({values['row_count']})"
        for name in counts
        if values[name] > values["row_count"]
    ]
    return problems + _profile_problems(query, values) + _activation_problems(query, values)
