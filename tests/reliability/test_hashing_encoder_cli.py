"""``triage score --encoder hashing`` (the model-free dry run) works with the default pipeline.

The bundled classify and sentiment heads were trained on multilingual-e5-small embeddings and cannot run on
hashing vectors: the dry run leaves those steps out with a note naming them, and scores everything else.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from triage.batch.hashing import HashingEncoder
from triage.bundled import sample_tickets_path
from triage.cli import app
from triage.commands.batch import dry_run_config
from triage.config import TriageConfig, default_steps

runner = CliRunner()


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_default_config_dry_run_scores_every_row_and_names_the_steps_left_out(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    args = ["score", str(sample_tickets_path()), "-o", str(out), "--encoder", "hashing", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    note = result.stderr
    assert "--encoder hashing is a model-free dry run" in note
    assert "classify" in note and "sentiment" in note and "multilingual-e5-small" in note
    assert "Run without --encoder hashing" in note
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    rows = _rows(out)
    assert summary["rows"] == summary["scored"] == len(rows) == 30 and summary["row_errors"] == 0
    for row in rows:
        assert not row["errors"], row["errors"]
        assert row.get("category") is None and row.get("sentiment") is None  # left out, not failed
        assert row["priority"]["label"] in {"P1", "P2", "P3", "P4"} and row["summary"]["text"]


def test_a_head_trained_on_hashing_embeddings_is_kept(tmp_path: Path) -> None:
    """Only steps that cannot run on the hashing encoder go: a head trained on it still classifies."""
    from triage.classify.model import TicketClassifier

    texts = [f"refund my money for order {i}" for i in range(15)] + [f"parcel {i} is late" for i in range(15)]
    labels = ["billing"] * 15 + ["shipping"] * 15
    head = tmp_path / "head"
    TicketClassifier(encoder=HashingEncoder(), C=1.0).fit(texts, labels).save(head)
    cfg = tmp_path / "pipeline.json"
    cfg.write_text(
        json.dumps(
            {
                "steps": ["normalize", "encode", "classify", "summarize"],
                "options": {"classify": {"heads": {"category": str(head)}}},
            }
        ),
        encoding="utf-8",
    )
    src = tmp_path / "in.jsonl"
    rows = [{"id": f"T{i}", "body": f"where is parcel {i}? it is late"} for i in range(4)]
    src.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["score", str(src), "-o", str(out), "--encoder", "hashing", "--config", str(cfg), "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dry run" not in result.stderr
    assert {row["category"]["label"] for row in _rows(out)} == {"shipping"}


def test_dry_run_config_keeps_the_order_and_the_other_options() -> None:
    config = TriageConfig(steps=default_steps(), options={"summarize": {"max_sentences": 2}}, redact=True)
    dry, left_out = dry_run_config(config)
    assert set(left_out) == {"classify", "sentiment"}
    assert dry.steps == [s for s in config.steps if s not in left_out]
    assert dry.steps[:2] == ["normalize", "redact"] and "priority" in dry.steps
    assert dry.options == config.options and config.steps == TriageConfig(redact=True).steps  # not mutated
