"""`triage train` / `evaluate` / `classify` on the notebook's small CSVs, and the notebook itself."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli import app

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "notebooks" / "data"
runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "my-queue"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(DATA / "tickets_train.csv"),
            "--text-cols",
            "subject,body",
            "--label-col",
            "queue",
            "--out",
            str(out),
            "--cv",
            "4",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_train_writes_a_loadable_model(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"config.json", "weights.npz", "metrics.json", "MODEL_CARD.md", "manifest.json"} <= names
    config = json.loads((trained / "config.json").read_text())
    assert config["classes"] == ["account", "billing", "shipping", "technical"]
    assert config["encoder"]["name"] == "multilingual-e5-small"  # the family, whatever the engine
    card = (trained / "MODEL_CARD.md").read_text()
    assert "tickets_train.csv" in card and "cross-validation" in card


@pytest.mark.slow
def test_evaluate_reports_metrics_and_writes_confusion_png(trained, tmp_path):
    out = tmp_path / "eval"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(trained),
            "--data",
            str(DATA / "tickets_test.csv"),
            "--text-cols",
            "subject,body",
            "--label-col",
            "queue",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["n"] == 20
    assert report["accuracy"] >= 0.85  # 20 tickets incl. de / hu / ru ones, 4 queues
    assert set(report["per_class"]) == {"account", "billing", "shipping", "technical"}
    assert (out / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "precision_coverage.png").exists()
    assert "macro-F1" in result.output and "| technical |" in result.output


@pytest.mark.slow
def test_classify_command_prints_prediction_json(trained):
    result = runner.invoke(app, ["classify", "The app crashes when I open settings", "--model", str(trained)])
    assert result.exit_code == 0, result.output
    pred = json.loads(result.output.strip().splitlines()[-1])
    assert pred["label"] == "technical"
    assert pred["automation"] in {"auto_route", "suggest", "abstain"}
    assert pred["evidence"][0]["kind"] == "example"


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("rows", "label_col", "message"),
    [
        (
            [{"body": "a b", "queue": "x"}, {"body": "c d", "queue": "x"}, {"body": "e f", "queue": "y"}],
            "queue",
            "'y' (rows 4)",
        ),
        (
            [{"body": "a b", "queue": ""}, {"body": "c d", "queue": ""}],
            "queue",
            "label column 'queue' is empty",
        ),
        ([{"body": "a b", "queue": "x"}, {"body": "c", "queue": "y"}], "team", "label column 'team'"),
        (
            [
                {"body": "a b", "queue": "x"},
                {"body": "", "queue": "x"},
                {"body": "c", "queue": "y"},
                {"body": "d", "queue": "y"},
            ],
            "queue",
            "rows of",
        ),
    ],
)
def test_train_bad_data_names_the_rows(tmp_path, rows, label_col, message):
    data = _write_csv(tmp_path / "bad.csv", rows)
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", "--data", str(data), "--label-col", label_col, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


@pytest.mark.slow
def test_retrain_notebook_runs_headless(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("TRIAGE_NOTEBOOK_OUT", str(tmp_path / "nb"))
    nb = nbformat.read(REPO / "notebooks" / "retrain_classifier.ipynb", as_version=4)
    client = nbclient.NotebookClient(  # generous hang guards: a loaded machine must not trip them
        nb,
        timeout=1800,
        startup_timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    )
    client.execute()
    outputs = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "refused:" in outputs and "rows" in outputs
    assert "macro-F1" in outputs
    assert (tmp_path / "nb" / "confusion.png").exists()
    assert (tmp_path / "nb" / "my-queue" / "manifest.json").exists()


@pytest.mark.slow
def test_train_fine_tune_saves_a_model_with_its_encoder(tmp_path, converted_e5, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(converted_e5.parents[1]))
    out = tmp_path / "queue-ft"
    args = ["train", "--data", str(DATA / "tickets_train.csv"), "--text-cols", "subject,body"]
    args += ["--label-col", "queue", "--out", str(out), "--no-progress"]
    args += ["--fine-tune", "--fine-tune-steps", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["encoder"].startswith("multilingual-e5-small+ft-")
    assert (out / "encoder" / "model.safetensors").exists()
    result = runner.invoke(app, ["classify", "I was charged twice for my order", "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["label"] == "billing"
