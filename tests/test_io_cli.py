from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from triage import __version__
from triage.cli import app
from triage.io import read_records

runner = CliRunner()


def test_jsonl_reader_reports_broken_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1, "body": "hello there"}\n{not json\n\n[1, 2]\n{"id": 3, "body": "x y z"}\n')
    records = list(read_records(path))
    assert [r.row for r in records] == [1, 2, 4, 5]
    assert records[1].error.startswith("invalid JSON")
    assert "expected a JSON object" in records[2].error
    assert records[3].data == {"id": 3, "body": "x y z"}


def test_csv_reader_with_column_mapping(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ref,title,desc\nA1,Login,Cannot log in\nA2,,Parcel late\nA3,too,many,fields\n")
    records = list(read_records(path, id_col="ref", text_cols=["title", "desc"]))
    assert records[0].data == {"id": "A1", "body": "Login\nCannot log in"}
    assert records[1].data == {"id": "A2", "body": "Parcel late"}
    assert records[2].row == 4 and "fields" in records[2].error


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_info_lists_default_encoder():
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert "multilingual-e5-small" in result.stdout and "[ok" in result.stdout
    assert "pairs available" in result.stdout and "en->pt" in result.stdout


def test_language_command():
    result = runner.invoke(app, ["language", "Срочно! Сервис не работает с утра."])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["language"] == "ru"


@pytest.mark.slow  # the real demo in a subprocess: left out by `make test-fast`
def test_console_script_demo(tmp_path):
    """The real `triage demo` entry point, as `make demo` runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "triage.cli", "demo", "--output", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "language correct on 30/30" in proc.stdout
    assert len((tmp_path / "demo" / "results.jsonl").read_text().splitlines()) == 30
