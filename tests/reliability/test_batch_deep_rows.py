"""Issue 20 item 2: one bad line must not stop a scoring run.

A JSONL line nested 100,000 deep raised RecursionError: exit 1, no good row scored, and an empty
``OUTPUT.parts/`` left behind so a plain rerun said "holds an unfinished run". Now every per-row failure,
of any exception type, is an error record with its row number and reason.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from batch_helpers import backlog, env_with, error_rows, fast_config, output_ids, run, score_cmd
from triage.batch.hashing import HashingEncoder
from triage.batch.workers import score_records
from triage.config import TriageConfig
from triage.io import MAX_NESTING, Record, read_records
from triage.pipeline import Triager

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


def _with_deep_lines(path, n=30):
    good = backlog(path, n)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3, DEEP_ARRAY)  # row 4
    lines.insert(10, DEEP_OBJECT)  # row 11
    nested: dict = {}
    for _ in range(50):  # deep, but within the limit: scored
        nested = {"a": nested}
    lines.insert(15, json.dumps({"id": "meta", "body": "x", "metadata": nested}))  # row 16
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return good


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_deeply_nested_lines_become_error_records_and_the_good_rows_are_scored(tmp_path, workers):
    src = tmp_path / "in.jsonl"
    good = _with_deep_lines(src)
    out = tmp_path / "out.jsonl"
    cmd = score_cmd(
        src,
        out,
        "--encoder",
        "hashing",
        "--config",
        fast_config(tmp_path),
        "--chunk-size",
        "7",
        "--workers",
        workers,
    )
    done = run(cmd, env_with(tmp_path))
    assert done.returncode == 0, done.stderr
    assert output_ids(out) == [*good[:13], "meta", *good[13:]]
    errors = error_rows(tmp_path / "out.jsonl.errors.jsonl")
    assert [e["row"] for e in errors] == [4, 11]
    assert all(f"nested more than {MAX_NESTING} levels" in e["error"] for e in errors)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["rows"], summary["scored"], summary["row_errors"]) == (33, 31, 2)
    assert not (tmp_path / "out.jsonl.parts").exists()
    again = run(cmd, env_with(tmp_path))  # a plain rerun: no "unfinished run" left behind
    assert again.returncode == 0, again.stderr


def test_nesting_is_refused_past_the_limit_but_not_before(tmp_path):
    src = tmp_path / "in.jsonl"
    ok = {
        "id": "ok",
        "body": "x",
        "metadata": {"a": json.loads("[" * (MAX_NESTING - 2) + "]" * (MAX_NESTING - 2))},
    }
    deep = {"id": "deep", "body": "x", "metadata": json.loads("[" * MAX_NESTING + "]" * MAX_NESTING)}
    thread = '"' + "[" * 5000 + "]" * 5000 + '"'
    src.write_text(json.dumps(ok) + "\n" + json.dumps(deep) + "\n", encoding="utf-8")
    records = list(read_records(src))
    assert records[0].data == ok and records[1].error and "nested" in records[1].error
    csv_src = tmp_path / "in.csv"
    csv_src.write_text(f"id,body,thread\n1,hello,{thread}\n2,hello,\n", encoding="utf-8")
    rows = list(read_records(csv_src, thread_col="thread"))
    assert "thread column 'thread' is nested more than" in rows[0].error and rows[1].data is not None


def test_a_row_whose_scoring_raises_any_exception_is_an_error_record():
    """Rows from Dask frames reach the worker without the reader's checks: a NumPy array as the id makes
    ``value in (None, "")`` raise ValueError; that row is recorded, its chunk is scored."""
    triager = Triager(TriageConfig(steps=["normalize", "encode"]), encoder=HashingEncoder())
    records = [
        Record(1, data={"id": "a", "body": "first ticket"}),
        Record(2, data={"id": np.array([1, 2]), "body": "an array as the id"}),
        Record(3, data={"id": "c", "body": "third ticket"}),
        Record(4, error="invalid JSON: broken"),
    ]
    outcome = score_records(triager, records, want_lines=True, want_flats=True)
    assert [json.loads(line)["ticket_id"] for line in outcome.lines] == ["a", "c"]
    assert [f["row"] for f in outcome.flats] == [1, 3]
    assert [e["row"] for e in outcome.errors] == [2, 4]
    assert outcome.errors[0]["error"].startswith("scoring failed: ValueError")
    assert outcome.stats["records"] == 4 and outcome.stats["row_errors"] == 2 and outcome.stats["scored"] == 2
