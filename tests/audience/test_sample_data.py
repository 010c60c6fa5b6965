"""`sample-data` as the README runs it: into a new folder, with progress on a terminal, in bounded memory."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import duckdb

from personalization_engine.cli.main import main

NOW_ARG = ["--now", "2026-11-24T09:00:00Z"]


def test_sample_data_creates_the_missing_folders_of_its_output(tmp_path: Path, capsys):
    out = tmp_path / "data" / "nested" / "profiles.parquet"
    assert main(["sample-data", "--rows", "1000", *NOW_ARG, str(out)]) == 0
    captured = capsys.readouterr()
    assert f"wrote 1000 rows to {out}" in captured.out
    assert captured.err == ""  # stderr is not a terminal here: no progress bar
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), bool_and(id = n) FROM (SELECT id, row_number() OVER () AS n FROM '{out}')"
        )
        .fetchone()
    )
    assert rows == (1000, True)  # streamed in id order, without a sort


def test_sample_data_that_fails_leaves_no_folder_or_file_behind(tmp_path: Path, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder would go\n")
    assert main(["sample-data", "--rows", "10", str(blocker / "new" / "profiles.parquet")]) == 2
    assert f"error: out: '{blocker}' is a file, so" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_sample_data_shows_progress_on_stderr_when_it_is_a_terminal(tmp_path: Path):
    out = tmp_path / "data" / "profiles.csv"
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from personalization_engine.cli.main import main; "
         "sys.exit(main(sys.argv[1:]))", "sample-data", "--rows", "20000", *NOW_ARG, str(out)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, cwd=tmp_path,
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    text = shown.decode()
    assert "\r[" in text and "  0% writing 20000 rows to" in text
    assert "100% wrote 20000 rows to profiles.csv" in text
    assert b"wrote 20000 rows" in stdout and b"\r" not in stdout
