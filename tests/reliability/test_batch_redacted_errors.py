"""Issue 20 item 7 (the batch writers' part): with ``redact: true`` the errors file carried an e-mail
inside a validation message (the message echoes the input). Error records are now masked with the run's
own redactor: nothing the run masks may reappear in the output, the errors file or the report.
"""

from __future__ import annotations

import json

import pytest

from batch_helpers import env_with, error_rows, run, score_cmd

EMAIL = "anna.schmidt@example.de"
PHONE = "+49 30 901820"
IBAN = "DE89 3704 0044 0532 0130 00"


def _config(tmp_path):
    path = tmp_path / "redact.json"
    path.write_text(json.dumps({"steps": ["normalize", "encode"], "redact": True}), encoding="utf-8")
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_error_records_never_carry_what_redaction_masks(tmp_path, workers):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "ok", "body": f"Please call me at {PHONE} or write to {EMAIL}."},
        {"id": "r2", "messages": [{"role": EMAIL, "text": "hello"}]},  # the validation message echoed it
        {"id": EMAIL, "subject": ""},  # no text: the error record names the id
        {"id": "r4", "body": "refund", "messages": [{"role": f"IBAN {IBAN}", "text": "x"}]},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cmd = score_cmd(src, out, "--encoder", "hashing", "--config", _config(tmp_path), "--workers", workers)
    done = run(cmd, env_with(tmp_path))
    assert done.returncode == 0, done.stderr
    errors = error_rows(tmp_path / "out.jsonl.errors.jsonl")
    assert [e["row"] for e in errors] == [2, 3, 4]
    assert "unknown message role" in errors[0]["error"]  # still says what is wrong
    assert errors[1]["id"] == "<EMAIL_1>" and "no text" in errors[1]["error"]
    written = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir() if p.name.startswith("out.")}
    assert set(written) == {"out.jsonl", "out.jsonl.errors.jsonl", "out.jsonl.report.json"}
    for name, text in {**written, "stdout": done.stdout, "stderr": done.stderr}.items():
        for secret in (EMAIL, "anna.schmidt", PHONE, IBAN, IBAN.replace(" ", "")):
            assert secret not in text, (name, secret)


def test_every_error_text_goes_through_the_runs_redactor():
    """Whatever a future message echoes (an exception's text, a reader's reason) is masked the same way."""
    from triage.batch.hashing import HashingEncoder
    from triage.batch.workers import error_masker, score_records
    from triage.config import TriageConfig
    from triage.io import Record
    from triage.pipeline import Triager

    triager = Triager(TriageConfig(steps=["normalize", "encode"], redact=True), encoder=HashingEncoder())
    mask = error_masker(triager)
    assert mask(f"cannot read this row: ValueError: bad value {EMAIL!r}") == (
        "cannot read this row: ValueError: bad value '<EMAIL_1>'"
    )
    outcome = score_records(triager, [Record(7, error=f"invalid id {EMAIL} (call {PHONE})")])
    assert outcome.errors == [{"row": 7, "error": "invalid id <EMAIL_1> (call <PHONE_1>)"}]
    plain = Triager(TriageConfig(steps=["normalize", "encode"]), encoder=HashingEncoder())
    assert error_masker(plain)(EMAIL) == EMAIL  # without redaction, errors stay as they are
