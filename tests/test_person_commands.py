"""`plans approve` and `plans confirm-consent`, run as a person runs them: under a real terminal.

Each command runs in a subprocess whose standard streams are a pseudo-terminal (os.openpty), with
its own HOME and no system git config, so the identity is only what the test gives it.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from personalization_engine.cli.person_commands import AGENT_MARKERS
from personalization_engine.core.sections import apply_sections, parse_sections

from .conftest import git
from .test_mcp_tools import snapshot

PRIYA = {"GIT_AUTHOR_NAME": "Priya Shah", "GIT_AUTHOR_EMAIL": "Priya@Example.com"}
LADDER = [
    {"role": "Personalization Architect", "owner": "Ana Ruiz", "email": "ana@example.com"},
    {"role": "Data Privacy Lead", "owner": "Priya Shah", "email": "priya@example.com"},
    {"role": "Exec sponsor", "owner": "Sam Lee"},
]
ATTRIBUTES = [
    {
        "name": "email_opt_in",
        "type": "boolean",
        "pii_class": "none",
        "consent": [
            {
                "purpose": "email_marketing",
                "lawful_basis": "consent",
                "evidence": {"kind": "cmp_purpose", "ref": "onetrust:C0004"},
            },
            {"purpose": "analytics", "lawful_basis": "legitimate_interest"},
        ],
    }
]
WAIT_S = 120


@pytest.fixture
def plan_id(engine) -> str:
    pid = engine.create_plan(initiative="PLG Onboarding", channels=["web", "email"], actor="test").plan_id
    sections = parse_sections({"error_handling": {"escalation_ladder": LADDER}, "attributes": ATTRIBUTES})
    engine.apply(pid, "plan", lambda p: apply_sections(p, sections), expected_revision=1, actor="test")
    return pid


@pytest.fixture
def person_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in AGENT_MARKERS and not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1")
    return env


def command(repo: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "personalization_engine.cli.main", "plans", *args, "--workspace", str(repo)]


def at_terminal(argv: list[str], env: dict[str, str], answer: str | None = "y\n") -> tuple[int, str]:
    """Run `argv` with stdin, stdout and stderr on a pseudo-terminal, typing `answer`."""
    master, slave = os.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    if answer is not None:
        os.write(master, answer.encode())
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], WAIT_S)
            if not ready:
                proc.kill()
                pytest.fail(f"no output for {WAIT_S}s; so far: {b''.join(chunks)!r}")
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return proc.wait(timeout=WAIT_S), b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def approve(repo: Path, env: dict[str, str], pid: str, role: str = "Data Privacy Lead", *extra: str):
    return at_terminal(command(repo, "approve", pid, "--role", role, *extra), {**env, **PRIYA})


def head_identities(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%an <%ae> / %cn <%ce>")


def test_the_approver_confirms_at_a_terminal_and_the_commit_is_theirs(repo_dir, plan_id, person_env, engine):
    code, out = approve(repo_dir, person_env, plan_id, "Data Privacy Lead", "--comment", "gates verified")
    assert code == 0, out
    assert f"Plan      {plan_id}: PLG Onboarding" in out
    assert "Revision  2 (the one you approve; your approval is written as revision 3)" in out
    assert "Rung      2 of 3: Data Privacy Lead (Priya Shah)" in out
    assert "Record this as your confirmed decision on revision 2? [y/N]" in out
    (approval,) = engine.read_plan(plan_id).approvals
    assert (approval.status, approval.approver, approval.revision, approval.signed) == (
        "confirmed",
        "Priya Shah",
        2,
        False,
    )
    assert approval.note == "gates verified"
    assert (approval.confirmed_by.email, approval.confirmed_by.revision) == ("Priya@Example.com", 2)
    assert engine.read_plan(plan_id).revision == 3
    assert head_identities(repo_dir) == "Priya Shah <Priya@Example.com> / Priya Shah <Priya@Example.com>"
    assert "gpgsig" not in git(repo_dir, "cat-file", "commit", "HEAD")
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert "Approval: apr-1 approved by Priya Shah (Data Privacy Lead) at r2, confirmed" in message


def test_a_confirmed_approval_replaces_the_reported_one_and_clears_approval_reported(
    repo_dir, plan_id, person_env, engine
):
    from personalization_engine.core.ledger import record_approval

    engine.apply(
        plan_id,
        "governance",
        lambda p, now: record_approval(
            p,
            approver="Priya Shah",
            role="Data Privacy Lead",
            decision="approved",
            note="",
            actor="mcp:x",
            now=now,
        ),
        expected_revision=None,
        actor="mcp:x",
        timed=True,
    )
    codes = [f.code for f in engine.current_findings(plan_id)[1] if f.pointer == "/approvals/0"]
    assert codes == ["approval.reported"]
    assert engine.read_plan(plan_id).approvals[0].reported_by == "mcp:x"
    code, out = approve(repo_dir, person_env, plan_id)
    assert code == 0, out
    codes = [f.code for f in engine.current_findings(plan_id)[1] if f.code.startswith("approval.")]
    assert "approval.reported" not in codes


def test_sign_signs_the_approval_commit_with_the_persons_own_ssh_key(
    repo_dir, plan_id, person_env, engine, tmp_path
):
    key = tmp_path / "priya_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "priya", "-f", str(key)], check=True)
    git(repo_dir, "config", "gpg.format", "ssh")
    git(repo_dir, "config", "user.signingkey", str(key))
    allowed = tmp_path / "allowed_signers"
    public = (tmp_path / "priya_key.pub").read_text().strip()
    allowed.write_text(f'priya@example.com namespaces="git" {public}\n')
    # Signing runs the person's signing program and nothing else the repository configures.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("pre-commit", "commit-msg", "post-commit", "reference-transaction", "post-index-change"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {tmp_path / 'hook-ran'}\n")
        (hooks / hook).chmod(0o755)
    git(repo_dir, "config", "core.hooksPath", str(hooks))
    code, out = approve(repo_dir, person_env, plan_id, "Data Privacy Lead", "--sign")
    assert code == 0, out
    assert "signing with your git signing key" in out
    verified = subprocess.run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", "HEAD"],
        cwd=repo_dir,
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr
    assert 'Good "git" signature for priya@example.com' in verified.stderr
    assert engine.read_plan(plan_id).approvals[0].signed is True
    assert not (tmp_path / "hook-ran").exists()
    assert head_identities(repo_dir) == "Priya Shah <Priya@Example.com> / Priya Shah <Priya@Example.com>"
    # The signed commit is the branch's commit, on top of revision 2's, and the index holds what
    # it committed.
    assert "Plan-Revision: 3" in git(repo_dir, "log", "-1", "--format=%B")
    assert "Plan-Revision: 2" in git(repo_dir, "log", "-1", "--format=%B", "HEAD~1")
    assert git(repo_dir, "status", "--porcelain") == ""


def test_sign_with_a_broken_signing_setup_refuses_and_writes_nothing(repo_dir, plan_id, person_env, tmp_path):
    git(repo_dir, "config", "gpg.format", "ssh")
    git(repo_dir, "config", "user.signingkey", str(tmp_path / "no-such-key"))
    before = snapshot(repo_dir)
    code, out = approve(repo_dir, person_env, plan_id, "Data Privacy Lead", "--sign")
    assert code != 0
    assert "signing the commit with your git signing setup failed" in out
    assert "Nothing was written" in out
    assert snapshot(repo_dir) == before


def _refused(repo_dir, argv, env, expected: str, answer: str | None = "y\n") -> None:
    before = snapshot(repo_dir)
    code, out = at_terminal(argv, env, answer)
    assert code != 0, out
    assert expected in " ".join(out.split()), out
    assert snapshot(repo_dir) == before


@pytest.mark.parametrize("marker", ["CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "GEMINI_CLI"])
def test_an_agent_environment_is_refused_and_nothing_is_written(repo_dir, plan_id, person_env, marker):
    env = {**person_env, **PRIYA, marker: "1"}
    argv = command(repo_dir, "approve", plan_id, "--role", "Data Privacy Lead")
    _refused(repo_dir, argv, env, f"refused: {marker} is set, so an AI agent may be running this command")


def test_no_terminal_is_refused_and_nothing_is_written(repo_dir, plan_id, person_env):
    before = snapshot(repo_dir)
    for stdout_is_a_terminal in (False, True):  # standard input is a pipe either way
        master, slave = os.openpty()
        try:
            done = subprocess.run(
                command(repo_dir, "approve", plan_id, "--role", "Data Privacy Lead"),
                input=b"y\n",
                stdout=slave if stdout_is_a_terminal else subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**person_env, **PRIYA},
                timeout=WAIT_S,
                check=False,
            )
        finally:
            os.close(master)
            os.close(slave)
        assert done.returncode == 2
        assert b"this command needs an interactive terminal" in done.stderr
    # Standard input a terminal, standard output a pipe (a model reading the output).
    master, slave = os.openpty()
    try:
        done = subprocess.run(
            command(repo_dir, "approve", plan_id, "--role", "Data Privacy Lead"),
            stdin=slave,
            capture_output=True,
            env={**person_env, **PRIYA},
            timeout=WAIT_S,
            check=False,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert done.returncode == 2
    assert b"this command needs an interactive terminal" in done.stderr
    assert snapshot(repo_dir) == before


def test_an_unknown_role_is_refused_listing_the_ladder(repo_dir, plan_id, person_env):
    argv = command(repo_dir, "approve", plan_id, "--role", "Janitor")
    _refused(
        repo_dir,
        argv,
        {**person_env, **PRIYA},
        "--role: 'Janitor' is not a role on the escalation ladder of "
        f"{plan_id}; use one of Personalization Architect, Data Privacy Lead, Exec sponsor",
    )


def test_a_rung_without_email_is_refused_saying_which_email_to_set(repo_dir, plan_id, person_env):
    argv = command(repo_dir, "approve", plan_id, "--role", "Exec sponsor")
    _refused(
        repo_dir,
        argv,
        {**person_env, **PRIYA},
        "rung 2 (Exec sponsor) names no approver email, so nobody can confirm for it; set "
        "error_handling.escalation_ladder[2].email",
    )


def test_a_missing_identity_is_refused_with_how_to_set_it(repo_dir, plan_id, person_env):
    git(repo_dir, "config", "--unset", "user.name")
    git(repo_dir, "config", "--unset", "user.email")
    argv = command(repo_dir, "approve", plan_id, "--role", "Data Privacy Lead")
    _refused(
        repo_dir, argv, person_env, "your git identity has no email, and this command records who you are"
    )
    _refused(repo_dir, argv, person_env, 'git config user.name "Your Name" && git config user.email')


def test_another_persons_email_is_refused_naming_both(repo_dir, plan_id, person_env):
    # The repository's configured identity is test@example.com (conftest).
    argv = command(repo_dir, "approve", plan_id, "--role", "Data Privacy Lead")
    _refused(
        repo_dir,
        argv,
        person_env,
        "your git email 'test@example.com' is not the approver email of 'Data Privacy Lead', "
        "'priya@example.com'",
    )


@pytest.mark.parametrize("answer", ["n\n", "\n", "yes please\n", None])
def test_anything_but_yes_writes_nothing(repo_dir, plan_id, person_env, answer):
    argv = command(repo_dir, "approve", plan_id, "--role", "Data Privacy Lead")
    env = {**person_env, **PRIYA}
    if answer is None:  # end of input (Ctrl-D) at the prompt
        answer = "\x04"
    _refused(repo_dir, argv, env, "Not confirmed; nothing was written.", answer)


def test_a_ladder_approver_confirms_a_grant_with_evidence(repo_dir, plan_id, person_env, engine):
    argv = command(
        repo_dir, "confirm-consent", plan_id, "--attribute", "email_opt_in", "--purpose", "email_marketing"
    )
    code, out = at_terminal(argv, {**person_env, **PRIYA})
    assert code == 0, out
    assert "evidence cmp_purpose: onetrust:C0004" in out
    assert "Confirm that this grant and its evidence hold? [y/N]" in out
    grant = engine.read_plan(plan_id).attributes[0].consent[0]
    assert (grant.confirmed_by.name, grant.confirmed_by.revision) == ("Priya Shah", 2)
    assert head_identities(repo_dir) == "Priya Shah <Priya@Example.com> / Priya Shah <Priya@Example.com>"


@pytest.mark.parametrize(
    ("attribute", "purpose", "identity", "expected"),
    [
        (
            "phone",
            "email_marketing",
            PRIYA,
            "--attribute: no attribute 'phone' in {pid}; attributes: email_opt_in",
        ),
        (
            "email_opt_in",
            "ads_targeting",
            PRIYA,
            "--purpose: attribute 'email_opt_in' has no consent grant for purpose 'ads_targeting'; its "
            "purposes: email_marketing, analytics",
        ),
        (
            "email_opt_in",
            "analytics",
            PRIYA,
            "has no evidence, so there is nothing to confirm; record its evidence first with "
            "inventory_attributes",
        ),
        (
            "email_opt_in",
            "email_marketing",
            {"GIT_AUTHOR_NAME": "Mallory", "GIT_AUTHOR_EMAIL": "mallory@example.com"},
            "your git email 'mallory@example.com' is not the email of any escalation ladder rung "
            "(approvers with an email: Personalization Architect <ana@example.com>, Data Privacy Lead "
            "<priya@example.com>)",
        ),
    ],
)
def test_confirm_consent_refuses_what_it_cannot_confirm_and_writes_nothing(
    repo_dir, plan_id, person_env, attribute, purpose, identity, expected
):
    argv = command(repo_dir, "confirm-consent", plan_id, "--attribute", attribute, "--purpose", purpose)
    _refused(repo_dir, argv, {**person_env, **identity}, expected.format(pid=plan_id))


def test_confirm_consent_refuses_an_agent_environment(repo_dir, plan_id, person_env):
    argv = command(
        repo_dir, "confirm-consent", plan_id, "--attribute", "email_opt_in", "--purpose", "email_marketing"
    )
    _refused(repo_dir, argv, {**person_env, **PRIYA, "CLAUDECODE": "1"}, "refused: CLAUDECODE is set")


def test_approve_json_prints_the_write_outcome(repo_dir, plan_id, person_env):
    code, out = approve(repo_dir, person_env, plan_id, "Data Privacy Lead", "--json")
    assert code == 0, out
    outcome = json.loads(out[out.index("{") :])
    assert (outcome["revision"], outcome["written"]) == (3, True)


def test_without_purpose_every_evidenced_unconfirmed_grant_of_the_attributes_named_is_confirmed(
    repo_dir, plan_id, person_env, engine
):
    argv = command(repo_dir, "confirm-consent", plan_id, "--attribute", "email_opt_in")
    code, out = at_terminal(argv, {**person_env, **PRIYA})
    assert code == 0, out
    # The analytics grant has no evidence, so only the email_marketing grant is shown and confirmed.
    assert "email_opt_in (PII class none): email_marketing" in out and ": analytics" not in out
    grants = engine.read_plan(plan_id).attributes[0].consent
    assert [g.confirmed_by is not None for g in grants] == [True, False]
    # Nothing is left to confirm: a second run is refused and writes nothing.
    _refused(
        repo_dir,
        argv,
        {**person_env, **PRIYA},
        "--attribute: the attributes named have no grant with evidence left to confirm; record "
        "evidence with inventory_attributes, or name one grant with --purpose",
    )
