"""`plans export` and export_activation at the surfaces people and models use: the files, the one
commit naming the revision, the ledger entry, the no-op re-export, --out, drafts, and every bad input
refused with its field named and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.model.final import content_sha256
from personalization_engine.server import build_server

from ..conftest import git
from .helpers import EXAMPLE_ID, export_folder, install_example, tree_state


@pytest.fixture
def example(repo_dir: Path) -> str:
    return install_example(repo_dir)


def cli(repo_dir: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["plans", *argv, "--workspace", str(repo_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def export_json(repo_dir: Path, capsys, *argv: str) -> dict:
    code, out, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_an_export_commits_the_targets_files_once_naming_the_revision_and_records_it(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    head = git(repo_dir, "rev-parse", "HEAD")
    done = export_json(repo_dir, capsys, "--to", "flagd")
    folder = export_folder(repo_dir, "flagd")
    # The files come from the revision that was reviewed and finalized (20).
    assert done["revision"] == 20 and done["written"] and not done["draft"]
    assert done["folder"] == f".claude/plans/{EXAMPLE_ID}/exports/flagd"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == done["files"]
    # Two commits: the files (naming revision 20), then the ledger entry (revision 27).
    commits = git(repo_dir, "log", "--format=%H", f"{head}..HEAD").splitlines()
    assert len(commits) == 2
    files_message = git(repo_dir, "log", "-1", "--format=%B", commits[1])
    assert "Plan-Revision: 20" in files_message and "Stage: export" in files_message
    changed = git(repo_dir, "show", "--name-only", "--format=", commits[1]).splitlines()
    assert sorted(changed) == sorted(f"{done['folder']}/{name}" for name in done["files"])
    plan = engine.read_plan(EXAMPLE_ID)
    assert plan.revision == 30 == done["ledger_revision"]
    run = plan.exports[-1]
    assert (run.target, run.revision, run.draft, run.id) == ("flagd", 20, False, "exp-1")
    assert run.files == tuple(done["files"]) and set(run.carriers) == set(done["carriers"])
    assert run.content_sha256 == content_sha256(plan) and run.cutoff_at is None  # flagd has a clock
    assert git(repo_dir, "status", "--porcelain") == ""


def test_exporting_an_unchanged_revision_again_makes_no_commit_and_no_ledger_entry(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    export_json(repo_dir, capsys, "--to", "flagd")
    head = git(repo_dir, "rev-parse", "HEAD")
    again = export_json(repo_dir, capsys, "--to", "flagd")
    assert not again["written"] and again["commit"] is None and again["ledger_revision"] is None
    assert again["revision"] == 20  # still the revision the files came from
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert len(engine.read_plan(EXAMPLE_ID).exports) == 1


def test_a_deleted_export_file_is_restored_and_committed_by_the_next_export(
    example: str, repo_dir: Path, capsys
):
    done = export_json(repo_dir, capsys, "--to", "flagd")
    victim = export_folder(repo_dir, "flagd") / done["files"][0]
    kept = victim.read_bytes()
    victim.unlink()
    again = export_json(repo_dir, capsys, "--to", "flagd")
    assert victim.read_bytes() == kept and again["commit"] is not None and again["ledger_revision"] is None
    assert git(repo_dir, "status", "--porcelain") == ""


def test_a_content_change_makes_the_export_outdated_and_the_next_export_commits_and_records_again(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    export_json(repo_dir, capsys, "--to", "flagd")

    def rename(plan):
        profiles = (plan.profiles[0].model_copy(update={"name": "Brand-new trial"}), *plan.profiles[1:])
        return plan.model_copy(update={"profiles": profiles})

    engine.apply(EXAMPLE_ID, "profiles", rename, expected_revision=None, actor="test")
    codes = {f.code for f in engine.current_findings(EXAMPLE_ID)[1]}
    assert "export.outdated" in codes
    again = export_json(repo_dir, capsys, "--to", "flagd")
    # The plan changed since it was finalized, so this export is a draft.
    assert again["written"] and again["draft"] and again["revision"] == 31
    for name in again["files"]:
        assert "DRAFT" in (export_folder(repo_dir, "flagd") / name).read_text().upper()
    assert "export.outdated" not in {f.code for f in engine.current_findings(EXAMPLE_ID)[1]}


def test_the_export_tool_answers_like_the_cli_and_lists_what_the_target_could_not_carry(
    engine: Engine, example: str, repo_dir: Path
):
    async def call() -> dict:
        async with Client(build_server(engine)) as client:
            result = await client.call_tool("export_activation", {"plan_id": EXAMPLE_ID, "target": "flagd"})
            assert not result.is_error, result.content
            return result.structured_content

    done = anyio.run(call)
    assert done["target"] == "flagd" and done["ledger_revision"] == 30

    async def arguments() -> set[str]:
        async with Client(build_server(engine)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            return set(tools["export_activation"].input_schema["properties"])

    # --out is for a person's own command only: the tool has no such argument.
    assert "out" not in anyio.run(arguments)
    # The demo's team expansion scores with half-life decay, which flagd's JSON Logic cannot compute.
    assert [(r["profile_id"], r["pointer"]) for r in done["refusals"]] == [
        ("team-expansion", "/profiles/2/scoring/decay")
    ]
    assert "team-expansion" not in done["profiles"]
    assert done["carriers"]["new-trial-activation/web"].startswith(done["folder"] + "/")


def test_out_writes_a_new_folder_inside_the_workspace_and_commits_and_records_nothing(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    head = git(repo_dir, "rev-parse", "HEAD")
    done = export_json(repo_dir, capsys, "--to", "flagd", "--out", "build/flags")
    out = repo_dir / "build" / "flags"
    assert done["commit"] is None and done["ledger_revision"] is None and done["folder"] == "build/flags"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == done["files"]
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert engine.read_plan(EXAMPLE_ID).exports == ()
    assert git(repo_dir, "status", "--porcelain") == "?? build/"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--to", "optimizely"],
            "export target 'optimizely' is not one of dbt, flagd, launchdarkly, growthbook",
        ),
        (["--to", "flagd", "--dialect", "postgres"], "dialect applies to the dbt target only"),
        (["--to", "dbt", "--dialect", "oracle"], "dialect 'oracle' is not one of duckdb, postgres"),
        (["--to", "flagd", "--out", "../outside"], "is outside the workspace"),
        (["--to", "flagd", "--out", "/tmp"], "is outside the workspace"),
        (["--to", "flagd", "--out", "docs"], "is not empty"),
        (["--to", "flagd", "--out", "notes.txt"], "is a file"),
        (["--to", "flagd", "--out", ".git/exports"], ".git"),
    ],
)
def test_bad_export_arguments_are_refused_naming_the_field_and_nothing_is_written(
    example: str, repo_dir: Path, capsys, argv: list[str], message: str
):
    (repo_dir / "docs").mkdir()
    (repo_dir / "docs" / "keep.md").write_text("mine\n")
    (repo_dir / "notes.txt").write_text("mine\n")
    before = tree_state(repo_dir)
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, *argv)
    assert code != 0 and message in err, err
    assert tree_state(repo_dir) == before


def test_out_through_a_symlink_that_leads_out_is_refused_and_nothing_is_written(
    example: str, repo_dir: Path, tmp_path: Path, capsys
):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo_dir / "link").symlink_to(outside, target_is_directory=True)
    before = tree_state(repo_dir)
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", "flagd", "--out", "link/flags")
    assert code != 0 and "is outside the workspace" in err and "out" in err
    assert tree_state(repo_dir) == before and list(outside.iterdir()) == []


def test_a_plan_with_error_findings_exports_only_with_allow_errors_and_then_as_a_draft(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    def drop_email_gate(plan):
        # The email activation no longer gates on consent: consent.gate_missing is an error.
        index = next(i for i, a in enumerate(plan.activations) if a.channel == "email")
        activations = list(plan.activations)
        activations[index] = activations[index].model_copy(update={"consent_gate": ()})
        return plan.model_copy(update={"activations": tuple(activations)})

    engine.apply(EXAMPLE_ID, "activation", drop_email_gate, expected_revision=None, actor="test")
    before = tree_state(repo_dir)
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", "flagd")
    assert code != 0 and "error finding" in err and "consent.gate_missing" in err and "--allow-errors" in err
    assert tree_state(repo_dir) == before
    done = export_json(repo_dir, capsys, "--to", "flagd", "--allow-errors")
    assert done["draft"] and engine.read_plan(EXAMPLE_ID).exports[-1].draft
    for name in done["files"]:
        assert "DRAFT" in (export_folder(repo_dir, "flagd") / name).read_text().upper()


def test_the_export_tool_refuses_an_unknown_target_naming_the_field_and_writes_nothing(
    engine: Engine, example: str, repo_dir: Path
):
    async def call() -> str:
        async with Client(build_server(engine)) as client:
            result = await client.call_tool("export_activation", {"plan_id": EXAMPLE_ID, "target": "x"})
            assert result.is_error
            return " ".join(getattr(part, "text", "") for part in result.content)

    before = tree_state(repo_dir)
    assert "target" in anyio.run(call)
    assert tree_state(repo_dir) == before


def test_the_checklist_and_the_report_link_each_activation_to_the_file_that_carries_it(
    example: str, repo_dir: Path, capsys
):
    done = export_json(repo_dir, capsys, "--to", "flagd")
    assert cli(repo_dir, capsys, "render", EXAMPLE_ID)[0] == 0
    deliverables = repo_dir / ".claude" / "plans" / EXAMPLE_ID
    carrier = done["carriers"]["new-trial-activation/web"]
    relative = Path(carrier).relative_to(f".claude/plans/{EXAMPLE_ID}").as_posix()
    assert (deliverables / relative).is_file()
    assert f"]({relative})" in (deliverables / "activation-checklist.md").read_text()
    assert f'href="{relative}"' in (deliverables / "report.html").read_text()
    assert "team-expansion" in (deliverables / "activation-checklist.md").read_text()
    assert "flagd (exp-1, revision 20) refused it" in (deliverables / "activation-checklist.md").read_text()


def test_an_export_through_the_real_server_over_stdio_commits_and_records_it(repo_dir: Path, example: str):
    from ..test_transports import stdio_params

    async def call() -> dict:
        with anyio.fail_after(120):
            async with Client(stdio_params(repo_dir)) as client:
                result = await client.call_tool(
                    "export_activation", {"plan_id": EXAMPLE_ID, "target": "flagd", "actor": "stdio-test"}
                )
                assert not result.is_error, result.content
                return result.structured_content

    done = anyio.run(call)
    assert done["ledger_revision"] == 30 and done["commit"]
    assert "Actor: stdio-test" in git(repo_dir, "log", "-1", "--format=%B", done["commit"])
    assert git(repo_dir, "status", "--porcelain") == ""


@pytest.mark.parametrize("where", ["exports", "exports/flagd", "exports/flagd/planted"])
def test_a_link_in_the_export_folders_is_refused_and_nothing_outside_is_written_or_removed(
    example: str, repo_dir: Path, tmp_path: Path, capsys, where: str
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me\n")
    link = repo_dir / ".claude" / "plans" / EXAMPLE_ID / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside, target_is_directory=True)
    head = git(repo_dir, "rev-parse", "HEAD")
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", "flagd")
    assert code == 2 and f"{str(link)!r} is a symlink" in err and "Traceback" not in err
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    assert (outside / "precious.txt").read_text() == "keep me\n"
    assert git(repo_dir, "rev-parse", "HEAD") == head


@pytest.mark.parametrize(
    ("target", "attribute", "message"),
    [
        ("flagd", "email", "'email'"),
        ("launchdarkly", "email", "'email'"),
        ("growthbook", "email", "'email'"),
        ("dbt", "sourceless", "'sourceless'"),
    ],
)
def test_a_profile_using_an_attribute_the_target_cannot_carry_is_refused_and_nothing_is_written(
    engine: Engine, example: str, repo_dir: Path, capsys, target: str, attribute: str, message: str
):
    from personalization_engine.model import Attribute
    from personalization_engine.model.rules import AllOf, NullCondition

    def uses(plan):
        # email is direct PII, which no flag context may carry; sourceless has no data source for dbt.
        extra = Attribute(name="sourceless", type="string")
        condition = NullCondition(op="is_not_null", attr=attribute)
        first = plan.profiles[0]
        eligibility = AllOf(all=(first.eligibility, condition))
        profiles = (first.model_copy(update={"eligibility": eligibility}), *plan.profiles[1:])
        return plan.model_copy(update={"attributes": (*plan.attributes, extra), "profiles": profiles})

    engine.apply(EXAMPLE_ID, "profiles", uses, expected_revision=None, actor="test")
    before = tree_state(repo_dir)
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", target, "--allow-errors")
    assert code == 2 and message in err and "/profiles/0/eligibility" in err, err
    assert tree_state(repo_dir) == before


def test_an_export_leaves_the_users_own_files_in_its_folder_alone(example: str, repo_dir: Path, capsys):
    export_json(repo_dir, capsys, "--to", "flagd")
    folder = export_folder(repo_dir, "flagd")
    (folder / "mine.txt").write_text("mine\n")
    git(repo_dir, "add", str(folder / "mine.txt"))
    (folder / "notes.md").write_text("notes\n")
    head = git(repo_dir, "rev-parse", "HEAD")
    again = export_json(repo_dir, capsys, "--to", "flagd")
    assert again["commit"] is None and git(repo_dir, "rev-parse", "HEAD") == head
    assert (folder / "mine.txt").read_text() == "mine\n" and (folder / "notes.md").read_text() == "notes\n"
    assert git(repo_dir, "diff", "--cached", "--name-only") == f"{again['folder']}/mine.txt"


def test_a_file_an_earlier_export_made_and_this_one_does_not_is_removed_in_its_commit(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    first = export_json(repo_dir, capsys, "--to", "dbt")
    assert "pe_profile_dormant_free.sql" in first["files"]

    def drop_dormant(plan):
        keep = tuple(p for p in plan.profiles if p.id != "dormant-free")
        activations = tuple(a for a in plan.activations if a.profile_id != "dormant-free")
        return plan.model_copy(update={"profiles": keep, "activations": activations})

    engine.apply(EXAMPLE_ID, "profiles", drop_dormant, expected_revision=None, actor="test")
    again = export_json(repo_dir, capsys, "--to", "dbt", "--allow-errors")
    assert "pe_profile_dormant_free.sql" not in again["files"]
    assert not (export_folder(repo_dir, "dbt") / "pe_profile_dormant_free.sql").exists()
    removed = git(repo_dir, "show", "--name-status", "--format=", again["commit"])
    assert f"D\t{again['folder']}/pe_profile_dormant_free.sql" in removed.splitlines()
    assert git(repo_dir, "status", "--porcelain") == ""


def test_an_export_that_cannot_write_a_file_restores_the_folder_and_names_the_target(
    example: str, repo_dir: Path, capsys
):
    folder = export_folder(repo_dir, "dbt")
    (folder / "pe_winner.sql").mkdir(parents=True)  # a folder where the export writes a file
    before = tree_state(repo_dir)
    head = git(repo_dir, "rev-parse", "HEAD")
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", "dbt")
    assert code == 2 and "could not write the dbt export" in err and "Traceback" not in err, err
    assert tree_state(repo_dir) == before and git(repo_dir, "rev-parse", "HEAD") == head
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == ["pe_winner.sql"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("notes.txt/x", "cannot be written"),
        ("x/" + "y" * 300, "cannot be written"),
        (".claude/plans/scratch", "inside .claude/plans"),
        (f".claude/plans/{EXAMPLE_ID}/exports/flagd2", "inside .claude/plans"),
    ],
)
def test_out_refuses_paths_it_cannot_use_naming_the_option_and_writes_nothing(
    example: str, repo_dir: Path, capsys, out: str, message: str
):
    (repo_dir / "notes.txt").write_text("mine\n")
    before = tree_state(repo_dir)
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", "flagd", "--out", out)
    assert code == 2 and message in err and "out" in err and "Traceback" not in err, err
    assert tree_state(repo_dir) == before


def test_out_refuses_a_folder_whose_tracked_files_are_deleted_from_disk(example: str, repo_dir: Path, capsys):
    (repo_dir / "docs").mkdir()
    (repo_dir / "docs" / "README.md").write_text("precious\n")
    git(repo_dir, "add", "docs")
    git(repo_dir, "commit", "-q", "-m", "docs")
    (repo_dir / "docs" / "README.md").unlink()
    (repo_dir / "docs").rmdir()
    code, _, err = cli(repo_dir, capsys, "export", EXAMPLE_ID, "--to", "flagd", "--out", "docs")
    assert code == 2 and "holds paths git tracks (docs/README.md)" in err, err
    assert not (repo_dir / "docs").exists()


def test_with_allow_errors_an_activation_of_an_unknown_profile_or_channel_is_listed_not_dropped(
    engine: Engine, example: str, repo_dir: Path, capsys
):
    def strays(plan):
        ghost = plan.activations[1].model_copy(update={"profile_id": "ghost"})
        ads = plan.activations[1].model_copy(update={"channel": "ads"})
        return plan.model_copy(update={"activations": (*plan.activations, ghost, ads)})

    engine.apply(EXAMPLE_ID, "activation", strays, expected_revision=None, actor="test")
    for target in ("dbt", "flagd", "launchdarkly", "growthbook"):
        done = export_json(repo_dir, capsys, "--to", target, "--allow-errors")
        if target == "dbt":
            assert "new-trial-activation/ads" in done["carriers"]
            ghost = [r for r in done["refusals"] if r["profile_id"] == "ghost"]
            assert ghost and ghost[0]["pointer"].endswith("/profile_id") and ghost[0]["channel"] == "email"
        assert "ghost/email" not in done["carriers"]
