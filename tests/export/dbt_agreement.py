"""The dbt export's models run as dbt would run them, on generated hostile plans and records.

The rules agreement generator (tests/rules/agreement_gen.py) gives the plans and records; each case
adds a record id, a consent attribute, data sources (one to three, with colliding names) that the
attributes are spread over, and email activations through dbt with and without a consent gate. The
exported staging and verdicts models are rendered with Jinja as dbt renders them (ref, source, var)
and run on DuckDB, and on PostgreSQL when a server is given, in the case's session time zone; every
member, score, winner and the email channel's profile must equal our evaluator's.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import jinja2

from personalization_engine.export import build_export
from personalization_engine.export.dbt import plan_layout
from personalization_engine.model import Activation, Attribute, DataSource
from personalization_engine.rules import output_columns, simulate
from personalization_engine.rules.records import coerce_value

from ..rules.agreement_gen import Case, Generator
from ..rules.agreement_run import count_hard_cases, same_score
from ..rules.engines import load_table, quoted
from ..rules.helpers import make_plan

ID = "pe_record_id"
GATE = "pe_consent"
# Ids that are the same once '-' becomes '_': the export must keep them apart.
SOURCES = ["src-a", "src_a", "src-b"]
GATES = [[], [GATE], [f"not {GATE}"], [f"{GATE} (Consent Mode ad_storage)"]]
# String constants that Jinja would read as tags if the SQL held them as they are.
JINJA_STRINGS = ["{{ 7 * 7 }}", "{% raw %}", "{#", "a{{b}}c", "{"]


class Mismatch(AssertionError):
    pass


class DbtAgreement:
    def __init__(self, seed: int, engines: dict[str, Any]) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.generator = Generator(self.rng)
        self.engines = engines  # dialect -> connection (DuckDB, psycopg autocommit)
        self.counter: Counter[str] = Counter()

    def fail(self, number: int, case: Case, detail: str) -> None:
        shown = json.dumps({"now": case.now.isoformat(), "zone": case.zone, "kinds": case.kinds,
                            "profiles": case.bodies}, default=str)  # fmt: skip
        raise Mismatch(f"EXPORT_AGREEMENT_SEED={self.seed} case {number}: {detail}\ncase: {shown}")

    def run(self, wanted: int) -> Counter[str]:
        number = 0
        while self.counter["cases"] < wanted:
            case = self.generator.case()
            try:
                self.one(number, case)
            except Mismatch:
                raise
            except Exception as exc:  # an engine error is a disagreement too
                self.fail(number, case, f"{type(exc).__name__}: {exc}")
            number += 1
        self.counter["plans"] = number
        return self.counter

    def hostile_strings(self, case: Case) -> None:
        """Put Jinja delimiters into some string constants and values, where the case has strings."""
        strings = [name for name, kind in case.kinds.items() if kind == "string"]
        if not strings or self.rng.random() < 0.7:
            return
        text = self.rng.choice(JINJA_STRINGS)
        attr = self.rng.choice(strings)
        case.bodies[0]["suppression"] = {"any": [{"op": "eq", "attr": attr, "value": text}]}
        for record in case.records[::2]:
            record[attr] = text
        self.counter["jinja:string"] += 1

    def plan_for(self, case: Case):
        kinds = {**case.kinds, ID: "integer", GATE: "boolean"}
        sources = SOURCES[: self.rng.randint(1, 3)]
        attributes = [
            Attribute(name=ID, type="integer", source_id=sources[0]),
            *(
                Attribute(name=n, type=k, source_id=self.rng.choice(sources))
                for n, k in kinds.items()
                if n != ID
            ),
        ]
        activations = []
        for body in case.bodies:
            if self.rng.random() < 0.7:
                gate = self.rng.choice(GATES)
                activations.append(Activation(profile_id=body["id"], channel="email", match_keys=(ID,),
                                              consent_gate=tuple(gate), export_target="dbt"))  # fmt: skip
        if not activations:  # the record id comes from an activation's match keys
            activations.append(Activation(profile_id=case.bodies[0]["id"], channel="web", match_keys=(ID,)))
        plan = make_plan(case.bodies, attributes=[{"name": n, "type": k} for n, k in kinds.items()])
        update = {
            "data_sources": tuple(
                DataSource(id=s, system="test", access_method="warehouse_sql") for s in sources
            ),
            "attributes": tuple(attributes),
            "activations": tuple(activations),
        }
        return plan.model_copy(update=update), kinds

    def one(self, number: int, case: Case) -> None:
        self.hostile_strings(case)
        plan, kinds = self.plan_for(case)
        for index, record in enumerate(case.records):
            record[ID] = index
            record[GATE] = self.rng.choice([True, False, None])
        count_hard_cases(self.counter, case)
        result = simulate(plan, case.records, case.now)
        for dialect, connection in self.engines.items():
            bundle = build_export(plan, "dbt", exported_at=case.now, draft=False, dialect=dialect)
            layout = plan_layout(plan, exported_at=case.now, draft=False, dialect=dialect)
            self.load(connection, dialect, layout, kinds, case)
            rows = self.run_models(connection, bundle.files, layout, case)
            self.compare(number, case, plan, layout, rows, result, dialect)

    def load(self, con: Any, dialect: str, layout, kinds: dict[str, str], case: Case) -> None:
        con.execute(f"SET TimeZone = '{case.zone}'")
        for name, _ in layout.sources.values():  # the views of the last case depend on these
            con.execute(f"DROP SCHEMA IF EXISTS {quoted(name)} CASCADE")
        load_table(con, dialect, "pe_base", kinds, case.records)
        for name, attrs in layout.sources.values():
            con.execute(f"CREATE SCHEMA {quoted(name)}")
            listed = ", ".join(quoted(a) for a in (ID, *attrs))
            con.execute(f"CREATE TABLE {quoted(name)}.records AS SELECT {listed} FROM pe_base")

    def run_models(self, con: Any, files: dict[str, str], layout, case: Case) -> list[tuple[Any, ...]]:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        context = {
            "ref": lambda name: quoted(name),
            "source": lambda name, table: f"{quoted(name)}.{quoted(table)}",
            "var": lambda name, default=None: case.now.isoformat() if name == "pe_now" else default,
            "run_started_at": datetime(2000, 1, 1, tzinfo=timezone.utc),  # not used: pe_now is set
        }
        for path, text in sorted(files.items()):
            if path.startswith("staging/"):
                name = path.removeprefix("staging/").removesuffix(".sql")
                con.execute(f"DROP VIEW IF EXISTS {quoted(name)} CASCADE")
                con.execute(f"CREATE VIEW {quoted(name)} AS {env.from_string(text).render(context)}")
        verdicts = env.from_string(files["pe_verdicts.sql"]).render(context)
        query = f"SELECT * FROM ({verdicts}) AS verdicts ORDER BY {quoted(layout.id_attr)}"
        cursor = con.execute(query)
        self.columns = [d[0] for d in cursor.description]
        return cursor.fetchall()

    def compare(
        self, number: int, case: Case, plan, layout, rows: list[tuple[Any, ...]], result, dialect: str
    ) -> None:
        pairs = output_columns(plan)
        by_id = {row[0]: dict(zip(self.columns, row, strict=True)) for row in rows}
        assert len(by_id) == len(case.records), "one row per record"
        channel = next((lineup for lineup in layout.lineups if lineup.channel == "email"), None)
        for index, verdict in enumerate(result.records):
            got = by_id[index]
            where = f"{dialect} record {index} {json.dumps(case.records[index], default=str)}"
            for body in case.bodies:
                pid = body["id"]
                self.counter["cases" if dialect == "duckdb" else f"cases:{dialect}"] += 1
                member, score = pairs[pid]
                if got[member] != (pid in verdict.members):
                    self.fail(number, case, f"{where}: {pid} member dbt {got[member]} vs python")
                if score in got and not same_score(got[score], verdict.scores.get(pid)):
                    self.fail(
                        number, case, f"{where}: {pid} score dbt {got[score]} vs {verdict.scores.get(pid)}"
                    )
            if got["winner"] != verdict.winner:
                self.fail(number, case, f"{where}: winner dbt {got['winner']} vs python {verdict.winner}")
            self.counter["winner:some" if verdict.winner else "winner:none"] += 1
            if channel is not None:
                expected = self.channel_expected(channel, verdict.winner, case.records[index])
                if got["channel_email"] != expected:
                    self.fail(number, case, f"{where}: email dbt {got['channel_email']} vs {expected}")
                self.counter["channel:" + ("some" if expected else "none")] += 1

    def channel_expected(self, lineup, winner: str | None, record: dict[str, Any]) -> str | None:
        """The winner when it is activated on email through dbt and its gate holds (a missing consent
        value never does)."""
        slot = next((s for s in lineup.slots if s.profile.id == winner), None)
        if slot is None or slot.activation is None:
            return None
        consent = coerce_value(record.get(GATE), "boolean", index=0, attr=GATE)
        for entry in slot.activation.consent_gate:
            wanted = not entry.startswith("not ")
            if consent is not wanted:
                self.counter["gate:blocked"] += 1
                return None
        return winner
