"""Issue 20 item 6: encodings and exit codes.

A UTF-16 CSV scored 0 of 6 rows with misleading field-count errors; a Latin-1 CSV was scored with U+FFFD
and no warning; NUL bytes vanished silently; a run where every row failed exited 0. Now byte-order marks
and UTF-16 are detected, ``--encoding`` reads anything else, undecodable and NUL bytes are flagged per row
(result warning, report, stderr naming the rows), and a failed run exits 3 (``--max-error-rate``).
"""

from __future__ import annotations

import codecs
import json

import pytest

from batch_helpers import env_with, error_rows, fast_config, run, score_cmd
from triage.errors import InputError
from triage.io import read_records, sniff_encoding

ROWS = [
    ("1", "Grüße aus Köln", "Die Lieferung für Müller fehlt."),
    ("2", "Straße", "Rückerstattung bitte"),
    ("3", "Hello", "My parcel is late"),
    ("4", "Façade", "Le colis n'est pas arrivé"),
    ("5", "Ñandú", "Mi pedido no llegó"),
    ("6", "Refund", "Charged twice"),
]


def _csv_text() -> str:
    return "id,subject,body\n" + "".join(f"{i},{s},{b}\n" for i, s, b in ROWS)


def _score(tmp_path, src, *args):
    out = tmp_path / f"{src.name}.out.jsonl"
    cmd = score_cmd(src, out, "--encoder", "hashing", "--config", fast_config(tmp_path), *args)
    done = run(cmd, env_with(tmp_path))
    results = (
        [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    )
    return done, out, results


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-8", codecs.BOM_UTF8),
     ("utf-16-le", b""), ("utf-16-be", b"")],
)  # fmt: skip
def test_byte_order_marks_and_utf16_are_detected(tmp_path, encoding, bom):
    src = tmp_path / "export.csv"
    src.write_bytes(bom + _csv_text().encode(encoding))
    records = list(read_records(src))
    assert [(r.data or {}).get("subject") for r in records] == [s for _, s, _ in ROWS]
    assert all(not r.warnings and not r.issues for r in records)


@pytest.mark.slow
def test_a_utf16_csv_is_scored_in_full(tmp_path):
    src = tmp_path / "export.csv"
    src.write_bytes(_csv_text().encode("utf-16"))  # with its BOM, as Excel's "Unicode text" writes it
    done, out, results = _score(tmp_path, src)
    assert done.returncode == 0, done.stderr
    assert [r["ticket_id"] for r in results] == [i for i, _, _ in ROWS]
    assert (tmp_path / f"{out.name}.errors.jsonl").read_text() == ""
    assert json.loads((tmp_path / f"{out.name}.report.json").read_text())["input_encoding"] == "utf-16"


@pytest.mark.slow
def test_latin1_bytes_are_flagged_never_silently_replaced(tmp_path):
    src = tmp_path / "export.csv"
    src.write_bytes(_csv_text().encode("latin-1"))
    done, out, results = _score(tmp_path, src)
    assert done.returncode == 0, done.stderr
    flagged = {r["ticket_id"] for r in results if any("not valid utf-8" in w for w in r["warnings"])}
    assert flagged == {"1", "2", "4", "5"}  # the rows with non-ASCII letters; row 3 and 6 are plain ASCII
    warning = next(w for w in results[0]["warnings"] if "not valid utf-8" in w)
    assert warning.startswith("input row 2: ") and "--encoding" in warning and "0xfc" in warning
    report = json.loads((tmp_path / f"{out.name}.report.json").read_text())
    assert report["input_issues"]["undecodable"]["first_rows"] == [2, 3, 5, 6]
    assert "warning: 4 row(s) had bytes not valid in the input encoding" in done.stderr
    assert "rows 2, 3, 5, 6" in done.stderr

    again, out2, results2 = _score(tmp_path, src.rename(tmp_path / "again.csv"), "--encoding", "latin-1")
    assert again.returncode == 0 and all(not r["warnings"] for r in results2), again.stderr
    assert "input_issues" not in again.stderr and "warning:" not in again.stderr
    assert [r.data["subject"] for r in read_records(tmp_path / "again.csv", encoding="latin-1")][0] == ROWS[
        0
    ][1]


@pytest.mark.slow
def test_nul_bytes_are_removed_and_flagged(tmp_path):
    src = tmp_path / "export.csv"
    src.write_bytes(b"id,subject,body\n1,Hi,my par\x00cel is late\n2,Ok,fine\n")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(b'{"id": "a", "body": "raw \x00 byte"}\n{"id": "b", "body": "escaped \\u0000 NUL"}\n')
    done, _, results = _score(tmp_path, src)
    assert done.returncode == 0, done.stderr
    assert (
        results[0]["warnings"]
        == ["input row 2: 1 NUL byte(s) removed from body (a binary or mis-encoded input?)"]
        and results[1]["warnings"] == []
    )
    assert "warning: 1 row(s) had NUL bytes" in done.stderr and "rows 2 " in done.stderr
    done, out, results = _score(tmp_path, jsonl)
    assert done.returncode == 0, done.stderr
    [error] = error_rows(tmp_path / f"{out.name}.errors.jsonl")
    assert error["row"] == 1 and "raw NUL byte at column" in error["error"]
    assert [r["ticket_id"] for r in results] == ["b"] and "NUL byte(s) removed from body" in results[0][
        "warnings"
    ][0]


@pytest.mark.slow
def test_exit_codes_when_rows_fail(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x"\n{"id": "y", "subject": ""}\nnot json\n', encoding="utf-8")
    done, out, results = _score(tmp_path, broken)
    assert done.returncode == 3, done.stderr
    assert (
        "every row failed (3 of 3)" in done.stderr
        and str(tmp_path / f"{out.name}.errors.jsonl") in done.stderr
    )
    assert out.exists() and results == []  # the outputs are still written
    assert len(error_rows(tmp_path / f"{out.name}.errors.jsonl")) == 3

    some = tmp_path / "some.jsonl"
    some.write_text(
        "".join(json.dumps({"id": f"s{i}", "body": f"ticket {i}"}) + "\n" for i in range(4)) + "{\n"
    )
    done, _, results = _score(tmp_path, some)  # 1 of 5 failed; default --max-error-rate 1.0
    assert done.returncode == 0 and len(results) == 4, done.stderr
    done, _, _ = _score(tmp_path, some, "--max-error-rate", "0.1", "--overwrite")
    assert (
        done.returncode == 3 and "1 of 5 rows failed (20.0%), more than --max-error-rate 0.1" in done.stderr
    )
    done, _, _ = _score(tmp_path, some, "--max-error-rate", "0.2")
    assert done.returncode == 0, done.stderr

    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert _score(tmp_path, empty)[0].returncode == 0  # nothing to fail


def test_unknown_encoding_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="unknown encoding 'utf-9'.*utf-8, utf-16, cp1252"):
        sniff_encoding(b"id,body\n", "utf-9")


@pytest.mark.slow
def test_unknown_encoding_on_the_command_line(tmp_path):
    src = tmp_path / "export.csv"
    src.write_text(_csv_text(), encoding="utf-8")
    done, out, _ = _score(tmp_path, src, "--encoding", "utf-9")
    assert done.returncode == 2 and "unknown encoding 'utf-9'" in done.stderr
    assert not out.exists() and not (tmp_path / f"{out.name}.parts").exists()
