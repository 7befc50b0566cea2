"""Nothing lost: concurrent writers of one knowledge base take turns (an exclusive lock from load to save).

Real ``triage kb add`` processes on one KB, released together by a start barrier (each waits for a line on
its stdin, sent once every one has said it is ready), must all succeed and leave every article of every
input in the KB. Waits are on events (a line on a pipe, a process exit), never on sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

from batch_helpers import start_at_barrier
from triage.kb import KnowledgeBase
from triage.kb.store import LOCK, POINTER
from triage.locking import LockTimeoutError, exclusive_lock

WRITERS = 4
PER_WRITER = 5
ROUNDS = 10
BASE = [
    {"id": "reset", "title": "Reset your password", "body": "Choose forgot password and open the link."},
    {"id": "refund", "title": "When will I get my refund", "body": "Refunds reach your card in 5 days."},
    {"id": "track", "title": "Track your parcel", "body": "Open the tracking link in the shipping email."},
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _triage(*args: str) -> list[str]:
    return [sys.executable, "-m", "triage.cli", *args]


def _writer_input(folder: Path, n: int) -> tuple[Path, set[str]]:
    rows = [
        {"id": f"w{n}-{j}", "title": f"Topic {n}.{j}", "body": f"How to handle case {n} {j} step by step."}
        for j in range(PER_WRITER)
    ]
    return _jsonl(folder / f"writer-{n}.jsonl", rows), {r["id"] for r in rows}


@pytest.fixture(scope="module")
def built_kb(tmp_path_factory) -> Path:
    """A KB saved by the real `triage kb build` (the default encoder); each test works on a copy."""
    folder = tmp_path_factory.mktemp("kb-base")
    source = _jsonl(folder / "base.jsonl", BASE)
    proc = subprocess.run(
        _triage("kb", "build", str(source), "--out", str(folder / "kb"), "--no-progress"),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return folder / "kb"


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_kb_add_processes_lose_no_article(tmp_path, built_kb, round_):
    kb = tmp_path / "kb"
    shutil.copytree(built_kb, kb)
    inputs = [_writer_input(tmp_path, n) for n in range(WRITERS)]
    procs = start_at_barrier([_triage("kb", "add", str(kb), str(path)) for path, _ in inputs])
    reports = []
    for proc in procs:
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    expected = {a["id"] for a in BASE}.union(*(ids for _, ids in inputs))
    assert set(KnowledgeBase.load(kb).articles) == expected  # nothing lost
    # each writer saw every earlier writer's articles: the counts are one per turn, none repeated
    assert sorted(r["articles"] for r in reports) == [
        len(BASE) + PER_WRITER * (n + 1) for n in range(WRITERS)
    ]
    assert [p.name for p in kb.iterdir() if p.is_dir()] == [json.loads((kb / POINTER).read_text())["version"]]
    assert not [p for p in kb.iterdir() if p.name.startswith(".tmp")]


HOLDER = textwrap.dedent("""
    import sys
    from triage.locking import exclusive_lock

    with exclusive_lock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.readline()  # released when the test writes a line (or closes the pipe)
""")


def _hold(lock: Path) -> subprocess.Popen:
    """A separate process holding ``lock`` until a line arrives on its stdin."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.slow
def test_a_waiting_writer_says_so_and_goes_on_when_the_lock_is_released(tmp_path, built_kb):
    kb = tmp_path / "kb"
    shutil.copytree(built_kb, kb)
    source, ids = _writer_input(tmp_path, 0)
    holder = _hold(kb / LOCK)
    pointer = (kb / POINTER).read_text()
    writer = subprocess.Popen(
        _triage("kb", "add", str(kb), str(source)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert writer.stderr is not None
        notice = writer.stderr.readline()  # printed once the wait passes NOTICE_AFTER_S
        assert "waiting for" in notice and str(holder.pid) in notice, notice
        assert (kb / POINTER).read_text() == pointer  # nothing written while the lock is held
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait()
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    assert json.loads(out)["articles"] == len(BASE) + PER_WRITER
    assert ids <= set(KnowledgeBase.load(kb).articles)


def test_the_lock_is_exclusive_across_processes_and_dropped_when_its_holder_dies(tmp_path):
    lock = tmp_path / "store.lock"
    holder = _hold(lock)
    with pytest.raises(LockTimeoutError, match=f"process {holder.pid}"):
        with exclusive_lock(lock, timeout=0):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with exclusive_lock(lock, timeout=0):  # the kernel released a killed holder's lock: no stale lock
        with exclusive_lock(lock, timeout=0):  # re-entrant in the process that holds it
            pass


class WordEncoder:
    """One bucket per word (hashed), L2-normalised: a tiny real encoder for in-process tests."""

    dim = 64
    name = "test/words-64"

    def encode(self, texts: list[str], *, kind: str = "query", batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def test_kb_editing_saves_on_success_and_nothing_when_the_block_fails(tmp_path):
    path = tmp_path / "kb"
    KnowledgeBase.build(BASE, WordEncoder()).save(path)
    with KnowledgeBase.editing(path, WordEncoder()) as kb:
        kb.add([{"id": "new", "title": "A new article"}])
    pointer = (path / POINTER).read_text()
    with pytest.raises(RuntimeError, match="boom"):
        with KnowledgeBase.editing(path, WordEncoder()) as kb:
            kb.remove(["new"])
            raise RuntimeError("boom")
    assert (path / POINTER).read_text() == pointer
    assert "new" in KnowledgeBase.load(path, WordEncoder()).articles
    with exclusive_lock(path / LOCK, timeout=0):  # released after both blocks
        pass


def test_editing_a_folder_that_is_not_a_kb_is_a_clear_error_and_leaves_no_lock(tmp_path):
    from triage.errors import TriageError

    with pytest.raises(TriageError, match="does not exist"):
        with KnowledgeBase.editing(tmp_path / "missing"):
            pass
    assert not (tmp_path / "missing").exists()


FEEDBACK_WRITER = textwrap.dedent("""
    import sys
    from triage.kb import FeedbackLog

    log = FeedbackLog(sys.argv[1])
    for i in range(int(sys.argv[3])):
        log.record(f"{sys.argv[2]}-{i}", "reset", "edited", edited_text=sys.argv[2] * 20000)
""")


def test_concurrent_feedback_writers_keep_every_line_whole(tmp_path):
    log = tmp_path / "kb.feedback.jsonl"
    events = 40
    procs = start_at_barrier(
        [[sys.executable, "-c", FEEDBACK_WRITER, str(log), name, str(events)] for name in "abc"]
    )
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err
    lines = log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # a torn or interleaved line would not parse
    assert sorted(r["ticket_id"] for r in records) == sorted(f"{n}-{i}" for n in "abc" for i in range(events))
