"""Issue 20 item 7 (the batch writers' part): with ``redact: true`` the errors file carried an e-mail
inside a validation message (the message echoes the input). Error records are now masked with the run's
own redactor: nothing the run masks may reappear in the output, the errors file or the report.
"""

from __future__ import annotations

import json

import pytest
from _batch_helpers import env_with, error_rows, run, score_cmd

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
        {"id": "r2", "messages": [{"role": EMAIL, "text": "hello"}]},  # validation echoes the role
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
