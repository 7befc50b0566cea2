"""Issue 20 item 7: nothing of the frozen PII corpus survives redaction in any byte a writer produces.

Every item of ``pii_corpus.jsonl`` (frozen before the detectors were fixed) goes through each path that writes
text with redaction on: the library (``Triager`` with the ``redact`` step), ``triage redact`` (JSONL, CSV and
text files), ``triage score`` with a config that turns redaction on (output, ``.errors.jsonl``, report, the
parts folder of an interrupted run, stdout/stderr) and the HTTP service (``/v1/triage``, including a request
that fails validation). Logs are captured at DEBUG. A value counts as leaked in any spelling a writer may
give it: as is, or JSON-escaped.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.config import TriageConfig, default_steps
from triage.pipeline import Triager

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).with_name("pii_corpus.jsonl")
ROWS: list[dict] = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
PII: list[str] = sorted({value for row in ROWS for value in row["pii"]}, key=len, reverse=True)
#: An e-mail that only an invalid row carries: it must not come back in an error message either.
INVALID_ROW_EMAIL = "anna_maria.o'neil@x.de"


def _spellings(value: str) -> set[str]:
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


SPELLINGS = {value: _spellings(value) for value in PII}


def leaks(data: str | bytes) -> list[str]:
    """The corpus values found in ``data``, in any spelling."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return [value for value, forms in SPELLINGS.items() if any(form in text for form in forms)]


def files_under(*roots: Path) -> Iterable[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (p for p in sorted(root.rglob("*")) if p.is_file())


def assert_no_leak(where: str, data: str | bytes) -> None:
    found = leaks(data)
    assert not found, f"{where} holds masked values: {found}"


def tickets() -> list[dict]:
    """Each corpus text as a body (with a metadata note), as a subject, and as a message in a thread."""
    out: list[dict] = []
    for i, row in enumerate(ROWS):
        text = row["text"]
        out.append({"id": f"B-{i}", "subject": "Help needed", "body": text, "metadata": {"note": text}})
        out.append({"id": f"S-{i}", "subject": text, "body": "Please see the subject, thank you."})
        out.append(
            {
                "id": f"M-{i}",
                "subject": "Re: help",
                "messages": [
                    {"role": "customer", "text": text},
                    {"role": "agent", "text": "Thank you, we are looking into it."},
                    {"role": "customer", "text": f"Any news?\n\n> {text}"},
                ],
            }
        )
    return out


#: Rows that are not valid tickets, holding personal data where a validation message may echo it.
INVALID_ROWS: list[dict] = [
    {"id": "X-role", "messages": [{"role": INVALID_ROW_EMAIL, "text": "hello"}]},
    {"id": {"mail": INVALID_ROW_EMAIL}, "body": "hello"},
    {"id": "X-date", "created_at": "Меня зовут Дмитрий Иванов", "body": "hello"},
    {"id": "X-list", "body": "Szabó Éva vagyok.", "messages": INVALID_ROW_EMAIL},
]


def redacting_config() -> TriageConfig:
    return TriageConfig(steps=["normalize", "redact", *default_steps()[1:]])


@pytest.fixture(scope="module")
def redacting_triager(encoder) -> Triager:
    return Triager(redacting_config(), encoder=encoder)


@pytest.fixture()
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_the_corpus_is_big_and_covers_six_languages() -> None:
    assert len(ROWS) >= 50
    assert {row["lang"] for row in ROWS} == {"en", "de", "hu", "ru", "fr", "es"}
    for row in ROWS:
        assert row["pii"] and all(value in row["text"] for value in row["pii"]), row


def test_redactor_masks_every_corpus_value() -> None:
    from triage.pii import Redactor, unmask

    redactor = Redactor()
    leaked = {}
    for row in ROWS:
        masked = redactor.redact(row["text"])
        assert unmask(masked.text, masked.mapping) == row["text"]
        if leaks(masked.text):
            leaked[row["text"]] = masked.text
    assert not leaked, leaked


def test_library_results_and_logs(redacting_triager: Triager, debug_logs, capfd) -> None:
    results = redacting_triager(tickets())
    for result in results:
        assert_no_leak(f"result {result.ticket_id}", result.model_dump_json())
        assert result.redaction_mapping is None and result.redaction_vault is None
    assert sum(bool(r.redactions) for r in results) >= len(ROWS)
    assert_no_leak("the log", debug_logs.text)
    out, err = capfd.readouterr()
    assert_no_leak("stdout/stderr", out + err)


def _write_jsonl(path: Path, rows: Iterable[dict], broken_line: str | None = None) -> None:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    if broken_line is not None:
        lines.append(broken_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_cli_redact_jsonl_csv_and_text(tmp_path: Path, debug_logs) -> None:
    from triage.cli import app

    runner = CliRunner()
    source = tmp_path / "in.jsonl"
    _write_jsonl(source, tickets(), broken_line=f'{{"id": "X-broken", "body": "mail {INVALID_ROW_EMAIL}"')
    out = tmp_path / "out" / "masked.jsonl"
    out.parent.mkdir()
    run = runner.invoke(app, ["redact", str(source), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(tickets())
    assert (out.parent / "masked.jsonl.errors.jsonl").read_text(encoding="utf-8").count('"row"') == 1
    console = run.output

    table = tmp_path / "in.csv"
    with open(table, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "subject", "body"])
        writer.writerows([f"C-{i}", "Help needed", row["text"]] for i, row in enumerate(ROWS))
    run = runner.invoke(app, ["redact", str(table), "-o", str(tmp_path / "out" / "masked-csv.jsonl")])
    assert run.exit_code == 0, run.output
    console += run.output

    for i, row in enumerate(ROWS):
        note = tmp_path / f"note-{i}.txt"
        note.write_text(row["text"], encoding="utf-8")
        run = runner.invoke(app, ["redact", str(note), "-o", str(tmp_path / "out" / f"note-{i}.masked.txt")])
        assert run.exit_code == 0, run.output
        console += run.output

    for path in files_under(tmp_path / "out"):
        assert_no_leak(str(path.relative_to(tmp_path)), path.read_bytes())
    assert_no_leak("the console", console)
    assert_no_leak("the log", debug_logs.text)


def test_score_output_errors_report_parts_and_console(tmp_path: Path, debug_logs, capfd) -> None:
    from triage.batch import ScoreOptions, ScoringInterrupted, score_file
    from triage.cli import app

    config = tmp_path / "pipeline.json"
    config.write_text(json.dumps({"redact": True}), encoding="utf-8")
    rows = tickets()
    source = tmp_path / "in.jsonl"
    # The invalid rows sit in the first chunk, so the parts folder of the interrupted run holds their errors.
    _write_jsonl(
        source,
        [*INVALID_ROWS, *rows],
        broken_line=f'{{"id": "X-broken", "body": "mail {INVALID_ROW_EMAIL}"',
    )
    out = tmp_path / "run" / "scored.jsonl"
    out.parent.mkdir()
    options = ScoreOptions(config=TriageConfig.from_file(config), chunk_size=40, max_chunks=2, progress=False)
    with pytest.raises(ScoringInterrupted):
        score_file(source, out, options)
    parts = out.with_name(out.name + ".parts")
    assert parts.is_dir() and any(parts.iterdir())
    for path in files_under(parts):
        assert_no_leak(f"the interrupted run's {path.name}", path.read_bytes())

    run = CliRunner().invoke(
        app, ["score", str(source), "-o", str(out), "--config", str(config), "--resume", "--no-progress"]
    )
    assert run.exit_code == 0, run.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(rows)
    errors = out.with_name(out.name + ".errors.jsonl").read_text(encoding="utf-8")
    assert errors.count('"row"') == len(INVALID_ROWS) + 1
    written = list(files_under(out.parent))
    assert {p.name for p in written} >= {
        "scored.jsonl",
        "scored.jsonl.errors.jsonl",
        "scored.jsonl.report.json",
    }
    for path in written:
        assert_no_leak(str(path.relative_to(tmp_path)), path.read_bytes())
    assert_no_leak("the console", run.output)  # stdout and stderr together
    assert_no_leak("the log", debug_logs.text)
    captured = capfd.readouterr()
    assert_no_leak("stdout/stderr", captured.out + captured.err)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The HTTP service in-process (TestClient), built from a config file that turns redaction on."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from triage.service import ServiceSettings, create_app

    config = tmp_path_factory.mktemp("service") / "pipeline.json"
    config.write_text(json.dumps({"redact": True}), encoding="utf-8")
    app = create_app(ServiceSettings(config_path=str(config), max_batch=1000))
    with TestClient(app) as client:
        state = app.state.triage
        assert state.loaded.wait(300), "the service's models did not load"
        assert state.load_error is None, state.load_error
        assert "redact" in state.triager.config.steps
        yield client


def test_http_service_results_and_logs(service, debug_logs, capfd) -> None:
    rows = tickets()
    bodies = []
    for start in range(0, len(rows), 50):
        response = service.post("/v1/triage", json=rows[start : start + 50])
        assert response.status_code == 200, response.text
        bodies.append(response.text)
    assert len([r for b in bodies for r in json.loads(b)]) == len(rows)
    for i, body in enumerate(bodies):
        assert_no_leak(f"response {i}", body)
    assert_no_leak("the log", debug_logs.text)
    captured = capfd.readouterr()
    assert_no_leak("stdout/stderr", captured.out + captured.err)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(INVALID_ROWS[0], id="role"),
        pytest.param(INVALID_ROWS[1], id="id-object"),
        pytest.param(INVALID_ROWS[2], id="created_at"),
        pytest.param(INVALID_ROWS[3], id="messages-string"),
    ],
)
def test_http_service_validation_errors(service, row: dict, debug_logs) -> None:
    response = service.post("/v1/triage", json=[row])
    assert response.status_code == 422, response.text
    assert_no_leak("the 422 response", response.text)
    assert_no_leak("the log", debug_logs.text)
