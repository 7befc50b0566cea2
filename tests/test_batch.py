"""Backlog scoring: formats, column mapping, no data loss, resume after a crash, workers, Dask, report."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from batch_helpers import (
    backlog,
    committed,
    env_with,
    fast_config,
    install_gated_encoder,
    output_ids,
    score_cmd,
    start_gated,
)
from triage.batch import FLAT_COLUMNS, ScoreOptions, ScoringInterrupted, flatten_result, score_file
from triage.batch.report import build_report, chunk_stats, label_drift, merge_stats, training_profiles
from triage.cli import app
from triage.config import TriageConfig
from triage.errors import InputError
from triage.schema import Cue, LabelScore, Prediction, SentimentResult, Suggestion, Summary, TriageResult

runner = CliRunner()
FAST = TriageConfig(steps=["normalize", "encode"])  # no model at all with encoder="hashing"
REPO = Path(__file__).resolve().parents[1]


def _fast(**kwargs) -> ScoreOptions:
    return ScoreOptions(config=FAST, encoder="hashing", progress=False, **kwargs)


def test_score_jsonl_with_a_broken_line(tmp_path):
    """The real encoder and language detector; every row lands in the output or the errors file."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "body": "Mein Passwort funktioniert nicht mehr, bitte helfen Sie mir."}\n'
        "{broken\n"
        '{"id": "c", "subject": ""}\n'
        '{"id": "d", "title": "Factura", "description": "La factura de marzo tiene un importe incorrecto."}\n'
    )
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"steps": ["normalize", "language", "encode"]}))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(src), "-o", str(out), "--no-progress", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["ticket_id"], r["language"]) for r in rows] == [("a", "de"), ("d", "es")]
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["row"] for e in errors] == [2, 3]
    assert errors[0]["error"].startswith("invalid JSON")
    assert "no text" in errors[1]["error"] and errors[1]["id"] == "c"
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["scored"] == 2 and summary["row_errors"] == 2 and summary["rows"] == 4
    report = json.loads((tmp_path / "out.jsonl.report.json").read_text())
    assert report["language"] == {"de": 1, "es": 1}
    assert not (tmp_path / "out.jsonl.parts").exists()


def test_score_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["score", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "not found" in result.output
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.jsonl.parts").exists()


def test_unknown_output_format_is_a_clear_error(tmp_path):
    src = tmp_path / "in.jsonl"
    backlog(src, 3)
    result = runner.invoke(app, ["score", str(src), "-o", str(tmp_path / "out.xlsx"), "--encoder", "hashing"])
    assert result.exit_code == 2 and "--output-format" in result.output


# --------------------------------------------------------------------------- formats and mapping
def test_csv_with_column_mapping_and_thread_to_flat_csv(tmp_path):
    src = tmp_path / "export.csv"
    thread = json.dumps([{"role": "customer", "text": "Still waiting"}, {"role": "agent", "text": "On it"}])
    src.write_text(
        "ref,title,desc,conversation\n"
        f'R1,Login,Cannot log in,"{thread.replace(chr(34), chr(34) * 2)}"\n'
        "R2,,Parcel late,\n"
        "R3,too,many,fields,here\n"
        "R4,Broken thread,x,not json\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    summary = score_file(
        src, out, _fast(id_col="ref", text_cols=["title", "desc"], thread_col="conversation", chunk_size=2)
    )
    assert (summary["scored"], summary["row_errors"]) == (2, 2)
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == list(FLAT_COLUMNS)
    assert [(r["row"], r["ticket_id"]) for r in rows] == [("2", "R1"), ("3", "R2")]
    errors = [json.loads(line) for line in (tmp_path / "out.csv.errors.jsonl").read_text().splitlines()]
    assert [e["row"] for e in errors] == [4, 5]
    assert "fields" in errors[0]["error"] and "thread column 'conversation'" in errors[1]["error"]


def test_parquet_in_and_out(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "ticket": [f"P{i}" for i in range(10)],
            "text": [f"Invoice {i} is wrong" if i != 4 else None for i in range(10)],
            "thread": [
                [{"role": "customer", "text": f"follow-up {i}"}] if i == 4 else None for i in range(10)
            ],
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    out = tmp_path / "out.parquet"
    summary = score_file(
        src, out, _fast(id_col="ticket", text_cols=["text"], thread_col="thread", chunk_size=3)
    )
    assert summary["scored"] == 10 and summary["row_errors"] == 0
    result = pq.read_table(out)
    assert result.schema.names == list(FLAT_COLUMNS)
    assert result.column("ticket_id").to_pylist() == [f"P{i}" for i in range(10)]
    assert result.column("row").to_pylist() == list(range(1, 11))


def test_stdin_input(tmp_path):
    lines = "".join(json.dumps({"id": f"S{i}", "body": f"Refund {i} please"}) + "\n" for i in range(5))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        ["score", "-", "-o", str(out), "--encoder", "hashing", "--no-progress", "--config",
         fast_config(tmp_path)],  # fmt: skip
        input=lines,
    )
    assert result.exit_code == 0, result.output
    assert output_ids(out) == [f"S{i}" for i in range(5)]


def test_rows_without_an_id_get_their_row_number(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"body": "first"}\n\n{"body": "third line"}\n')
    out = tmp_path / "out.jsonl"
    score_file(src, out, _fast())
    assert output_ids(out) == ["row-1", "row-3"]


# --------------------------------------------------------------------------- no data loss, resume
def test_interrupted_run_resumes_without_duplicates(tmp_path):
    src = tmp_path / "in.jsonl"
    good = backlog(src, 95, broken_every=10)
    out = tmp_path / "out.jsonl"
    with pytest.raises(ScoringInterrupted) as info:
        score_file(src, out, _fast(chunk_size=20, max_chunks=2))
    assert info.value.committed_rows == 40 and not out.exists()
    with pytest.raises(InputError, match="--resume"):
        score_file(src, out, _fast(chunk_size=20))
    with pytest.raises(InputError, match="different settings"):
        score_file(src, out, _fast(chunk_size=20, resume=True, id_col="other"))
    summary = score_file(src, out, _fast(chunk_size=7, resume=True))  # a new chunk size is fine
    assert summary["resumed_after_rows"] == 40
    assert output_ids(out) == good
    errors = [
        json.loads(line)["row"] for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert errors == list(range(10, 91, 10))
    assert summary["rows"] == 95 and summary["scored"] + summary["row_errors"] == 95


def test_uncommitted_part_is_discarded_on_resume(tmp_path):
    src = tmp_path / "in.jsonl"
    good = backlog(src, 30)
    out = tmp_path / "out.jsonl"
    with pytest.raises(ScoringInterrupted):
        score_file(src, out, _fast(chunk_size=10, max_chunks=1))
    parts = tmp_path / "out.jsonl.parts"
    # a crash after a part's rename but before its commit line, and a torn commit line
    (parts / "part-00000001.jsonl").write_text('{"ticket_id": "T11"}\n')
    with open(parts / "commits.jsonl", "a") as handle:
        handle.write('{"chunk": 1, "rec')
    score_file(src, out, _fast(chunk_size=10, resume=True))
    assert output_ids(out) == good


@pytest.mark.slow  # a subprocess pipeline: left out by `make test-fast`
def test_ctrl_c_then_kill_then_resume_gives_every_row_exactly_once(tmp_path):
    """Real `triage score` processes: Ctrl-C (exit 130), resume, SIGKILL, resume: no row lost or doubled.

    Each signal reaches a child held mid-chunk by a gated encoder (batch_helpers.GATED_ENCODER), never one
    that could have finished: the chunks committed before each signal are known exactly.
    """
    src = tmp_path / "in.jsonl"
    good = backlog(src, 300, broken_every=37)
    out = tmp_path / "out.jsonl"
    env = env_with(tmp_path)
    cmd = score_cmd(
        src, out, "--encoder", install_gated_encoder(tmp_path), "--config", fast_config(tmp_path),
        "--chunk-size", "20",
    )  # fmt: skip
    commits = tmp_path / "out.jsonl.parts" / "commits.jsonl"

    log = tmp_path / "child.log"
    proc, _ = start_gated(cmd, env, 65, log)  # chunks 0-2 (rows 1-60) committed, chunk 3 held
    assert committed(commits) == 3
    proc.send_signal(signal.SIGINT)
    proc.wait()
    stderr = log.read_text()
    assert proc.returncode == 130 and "--resume" in stderr
    assert "60 rows are committed" in stderr and committed(commits) == 3

    proc, _ = start_gated([*cmd, "--resume"], env, 125, log)  # chunks 3-5 (rows 61-120) added
    assert committed(commits) == 6
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    assert committed(commits) == 6

    resumed = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True)  # no gate
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["resumed_after_rows"] == 120
    assert summary["rows"] == 300 and summary["scored"] == len(good)  # the report covers all three runs
    ids = output_ids(out)
    assert ids == good and len(set(ids)) == len(ids)
    errors = [
        json.loads(line)["row"] for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert errors == list(range(37, 301, 37))
    assert not (tmp_path / "out.jsonl.parts").exists()


# --------------------------------------------------------------------------- parallel engines
@pytest.mark.slow  # a subprocess pipeline: left out by `make test-fast`
def test_two_worker_processes_match_in_process(tmp_path):
    src = tmp_path / "in.jsonl"
    backlog(src, 60, broken_every=13)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    score_file(src, one, _fast(chunk_size=8))
    summary = score_file(src, two, _fast(chunk_size=8, workers=2))
    assert summary["report"]["engine"].startswith("2 local processes")
    strip = [
        {k: v for k, v in json.loads(line).items() if k != "timings_ms"}
        for line in one.read_text().splitlines()
    ]
    assert strip == [
        {k: v for k, v in json.loads(line).items() if k != "timings_ms"}
        for line in two.read_text().splitlines()
    ]
    assert (tmp_path / "one.jsonl.errors.jsonl").read_text() == (
        tmp_path / "two.jsonl.errors.jsonl"
    ).read_text()


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    import dask

    # Dask's 30 s comm timeouts are hang guards, not part of the test: a loaded CI box must not trip them
    guards = {"distributed.comm.timeouts.connect": "600s", "distributed.comm.timeouts.tcp": "600s"}
    with dask.config.set(guards):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        yield cluster
        cluster.close()


@pytest.mark.slow  # a subprocess pipeline: left out by `make test-fast`
def test_dask_engine_on_a_local_cluster(tmp_path, dask_cluster):
    src = tmp_path / "in.jsonl"
    good = backlog(src, 50, broken_every=9)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        [
            "score",
            str(src),
            "-o",
            str(out),
            "--engine",
            "dask",
            "--scheduler",
            dask_cluster.scheduler_address,
            "--encoder",
            "hashing",
            "--config",
            fast_config(tmp_path),
            "--chunk-size",
            "6",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert output_ids(out) == good
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["row_errors"] == 5 and summary["scored"] == 45


def _cached_triagers() -> int:
    from triage.batch.workers import _TRIAGERS

    return len(_TRIAGERS)


@pytest.mark.slow  # a subprocess pipeline: left out by `make test-fast`
def test_triage_dataframe_maps_partitions_with_one_model_per_worker(dask_cluster):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from distributed import Client

    from triage.batch import triage_dataframe

    frame = pd.DataFrame(
        {
            "ref": [f"D{i}" for i in range(12)],
            "title": ["Refund"] * 12,
            "desc": [f"Refund order {i}" if i != 5 else None for i in range(12)],
        }
    )
    frame.loc[7, "title"] = None
    frame.loc[7, "desc"] = None
    ddf = dd.from_pandas(frame, npartitions=4)
    with Client(dask_cluster) as client:
        out = triage_dataframe(ddf, FAST, encoder="hashing", id_col="ref", text_cols=["title", "desc"])
        result = out.compute()
        models = client.run(_cached_triagers)
    assert list(result["row"]) == list(range(12))  # the input's index, every row kept, in order
    scored = result[result["error"].isna()]
    assert list(scored["ticket_id"]) == [f"D{i}" for i in range(12) if i != 7]
    assert result.loc[result["row"] == 7, "error"].iloc[0].startswith("none of the text columns")
    assert result["result_json"].notna().sum() == 11
    assert json.loads(result["result_json"].iloc[0])["ticket_id"] == "D0"
    # one Triager per worker process, built on its first partition and reused for the others
    assert max(models.values()) == 1


# --------------------------------------------------------------------------- flatten, report, drift
def _result(label: str, score: float, abstained: bool = False) -> TriageResult:
    return TriageResult(
        ticket_id="X",
        language="en",
        category=Prediction(
            label=label,
            score=score,
            abstained=abstained,
            automation="suggest",
            top_k=[LabelScore(label=label, score=score)],
        ),
        priority=Prediction(label="high", score=0.7),
        sentiment=SentimentResult(
            label="negative",
            score=-0.6,
            confidence=0.8,
            cues=[Cue(kind="urgency", text="asap", start=0, end=4)],
        ),
        summary=Summary(text="Customer charged twice."),
        suggestions=[Suggestion(article_id="kb-1", title="Double charge", score=0.9)],
    )


def test_flatten_result_reads_components_defensively():
    flat = flatten_result(_result("billing", 0.8), row=3)
    assert list(flat) == list(FLAT_COLUMNS)
    assert flat["category"] == "billing" and flat["priority"] == "high" and flat["sentiment"] == "negative"
    assert flat["escalation_cues"] == 1 and flat["top_suggestion"] == "Double charge" and flat["row"] == 3
    empty = flatten_result(TriageResult(ticket_id="Y"))
    assert empty["category"] is None and empty["summary"] is None and empty["top_suggestion"] is None


def test_report_counts_distribution_and_drift(tmp_path):
    results = [_result("billing", 0.9)] * 6 + [_result("shipping", 0.4, abstained=True)] * 4
    stats = merge_stats(
        [chunk_stats(results[:5], row_errors=1, records=6), chunk_stats(results[5:], row_errors=0, records=5)]
    )
    model = tmp_path / "head"
    model.mkdir()
    (model / "config.json").write_text(
        json.dumps({"train": {"label_counts": {"billing": 50, "shipping": 50}}})
    )
    (model / "metrics.json").write_text(json.dumps({"coverage_at_target": 0.9, "auto_route_coverage": 0.5}))
    config = TriageConfig(
        steps=["normalize", "encode", "classify"], options={"classify": {"heads": {"category": str(model)}}}
    )
    profiles = training_profiles(config)
    assert profiles["category"]["label_counts"] == {"billing": 50, "shipping": 50}
    report = build_report(stats, elapsed_s=2.0, rows_this_run=11, profiles=profiles)
    assert report["counts"] == {
        "rows": 11,
        "scored": 10,
        "row_errors": 1,
        "step_errors": 0,
        "with_warnings": 0,
    }
    cat = report["heads"]["category"]
    assert cat["distribution"] == {"billing": 6, "shipping": 4} and cat["abstain_rate"] == 0.4
    assert cat["mean_confidence"] == pytest.approx(0.7)
    assert report["heads"]["priority"]["distribution"] == {"high": 10}
    drift = report["drift"]["category"]
    assert drift["total_variation"] == pytest.approx(0.1)
    assert drift["abstain_rate"] == {"backlog": 0.4, "heldout": 0.1}
    assert report["throughput"]["rows_per_s"] == 5.5


def test_label_drift_verdicts():
    same = label_drift({"a": 10, "b": 10}, {"a": 100, "b": 100})
    assert same["psi"] == 0 and same["verdict"] == "stable"
    shifted = label_drift({"a": 90, "b": 10}, {"a": 50, "b": 50})
    assert shifted["total_variation"] == pytest.approx(0.4) and shifted["verdict"] == "significant shift"
    new = label_drift({"a": 5, "c": 5}, {"a": 10})
    assert new["top_movers"][0]["label"] in {"a", "c"} and new["psi"] > 0.25


def test_drift_view_for_a_trained_head_end_to_end(tmp_path):
    """A real TicketClassifier saved to disk scores a backlog; the report compares with its training data."""
    from triage.batch.hashing import HashingEncoder
    from triage.classify.model import TicketClassifier

    texts = [f"refund my money for order {i}" for i in range(30)] + [
        f"parcel {i} delivery is late" for i in range(30)
    ]
    head = tmp_path / "head"
    TicketClassifier(encoder=HashingEncoder(), C=1.0).fit(texts, ["billing"] * 30 + ["shipping"] * 30).save(
        head
    )
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"X{i}", "body": f"where is my parcel {i}, delivery late"}) + "\n"
            for i in range(20)
        )
    )
    config = TriageConfig(
        steps=["normalize", "encode", "classify"], options={"classify": {"heads": {"category": str(head)}}}
    )
    out = tmp_path / "out.csv"
    summary = score_file(src, out, ScoreOptions(config=config, encoder="hashing", progress=False))
    report = json.loads((tmp_path / "out.csv.report.json").read_text())
    assert report == json.loads(json.dumps(summary["report"]))
    assert report["heads"]["category"]["distribution"] == {"shipping": 20}
    drift = report["drift"]["category"]
    assert drift["total_variation"] == pytest.approx(0.5) and drift["verdict"] == "significant shift"
    assert {m["label"] for m in drift["top_movers"]} == {"billing", "shipping"}
    assert drift["abstain_rate"]["heldout"] is not None
    import csv

    assert {r["category"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {"shipping"}
