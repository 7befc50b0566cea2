"""Nothing lost under concurrency and crashes (issue 20), each repeated so a rare race shows up:

* ``kb-concurrent-add``: 4 real ``triage kb add`` processes on one knowledge base, released together by a
  start barrier, 10 rounds. ``articles_lost``: articles of the inputs missing from the final KB (must be 0;
  before the store lock a round lost whole writers' inputs or crashed), ``writers_failed``: non-zero exits.
* ``score-kill-resume``: ``triage score --workers 2`` held by a gated encoder in a worker at a random chunk
  (the chunks before it committed or committing), the parent SIGKILLed, then ``--resume``d, 10 rounds.
  ``rows_lost`` / ``rows_duplicated`` in the resumed output, ``orphan_processes``: the killed run's
  workers still alive afterwards, ``resumes_failed``: non-zero exits of the resume. All must be 0.

Waits are on events (a line on a pipe, a process exit), as in tests/reliability.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from benchmarks.common import REPO_ROOT, Context, Row, busy_warning
from triage.kb.store import read_current

WRITERS = 4
PER_WRITER = 5
ROWS = 200
CHUNK = 20
BAR = "issue 20: must be 0"


def _triage(*args: str) -> list[str]:
    return [sys.executable, "-m", "triage.cli", *args]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _batch_helpers() -> ModuleType:
    """tests/batch_helpers.py: the gated encoder and /proc process helpers the tests use."""
    path = REPO_ROOT / "tests" / "batch_helpers.py"
    spec = importlib.util.spec_from_file_location("batch_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kb_rounds(work: Path, rounds: int, log: Callable[[str], None]) -> list[Row]:
    base = [
        {"id": f"base-{i}", "title": f"Base article {i}", "body": f"How to fix problem {i}."}
        for i in range(3)
    ]
    built = work / "kb-base"
    proc = subprocess.run(
        _triage("kb", "build", str(_jsonl(work / "base.jsonl", base)), "--out", str(built), "--no-progress"),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"triage kb build failed: {proc.stderr}")
    lost = failed = 0
    seconds = []
    for r in range(rounds):
        kb = work / f"kb-{r}"
        shutil.copytree(built, kb)
        inputs, expected = [], {a["id"] for a in base}
        for n in range(WRITERS):
            rows = [{"id": f"r{r}-w{n}-{j}", "title": f"Topic {n}.{j}"} for j in range(PER_WRITER)]
            inputs.append(_jsonl(work / f"r{r}-w{n}.jsonl", rows))
            expected |= {row["id"] for row in rows}
        start = time.perf_counter()
        commands = [_triage("kb", "add", str(kb), str(path)) for path in inputs]
        procs = _batch_helpers().start_at_barrier(commands)
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                failed += 1
                log(f"  kb round {r}: a writer exited {proc.returncode}: {err.strip()[-300:]}")
        seconds.append(time.perf_counter() - start)
        folder, _ = read_current(kb)
        db = sqlite3.connect(f"file:{folder / 'kb.sqlite'}?mode=ro", uri=True)
        try:
            have = {row[0] for row in db.execute("SELECT id FROM articles")}
        finally:
            db.close()
        lost += len(expected - have)
        log(f"  kb round {r}: {len(expected - have)} of {len(expected)} articles lost")
        shutil.rmtree(kb, ignore_errors=True)
    total = rounds * WRITERS * PER_WRITER
    note = f"{busy_warning()}{rounds} rounds x {WRITERS} concurrent `triage kb add` x {PER_WRITER} articles"
    return [
        Row("kb-concurrent-add", "articles_lost", lost, 0, BAR, f"{note}; {total} articles added in all"),
        Row("kb-concurrent-add", "writers_failed", failed, 0, BAR, note),
        Row("kb-concurrent-add", "seconds_per_round", sum(seconds) / len(seconds), None, "", note),
    ]


def _kill_resume_rounds(work: Path, rounds: int, seed: int, log: Callable[[str], None]) -> list[Row]:
    h = _batch_helpers()
    rng = random.Random(seed)
    lost = duplicated = orphans = failed = 0
    kill_points = []
    for r in range(rounds):
        folder = work / f"score-{r}"
        folder.mkdir()
        src, out = folder / "in.jsonl", folder / "out.jsonl"
        good = h.backlog(src, ROWS)
        spec = h.install_gated_encoder(folder)
        args = ["--encoder", spec, "--config", h.fast_config(folder), "--chunk-size", str(CHUNK)]
        cmd = h.score_cmd(src, out, *args, "--workers", "2")
        env = h.env_with(folder)
        gate_row = rng.randrange(2 * CHUNK + 1, ROWS - CHUNK + 1)  # chunks 2..8: some commit first
        proc, _ = h.start_gated(cmd, env, gate_row, folder / "run.log")
        family = h.children(proc.pid)
        try:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            left = h.wait_until_gone(family)
            orphans += len(left)
        finally:
            h.kill_leftovers(family)
        kept = h.committed(folder / "out.jsonl.parts" / "commits.jsonl")
        kill_points.append(f"row {gate_row}/{kept} chunks")
        resumed = h.run([*cmd, "--resume"], env)
        if resumed.returncode != 0:
            failed += 1
            log(f"  score round {r}: resume exited {resumed.returncode}: {resumed.stderr.strip()[-300:]}")
            continue
        ids = h.output_ids(out)
        lost += len(set(good) - set(ids))
        duplicated += len(ids) - len(set(ids))
        log(
            f"  score round {r}: killed at row {gate_row} with {kept} chunks committed; resumed: "
            f"{len(set(good) - set(ids))} lost, {len(ids) - len(set(ids))} duplicated, {len(left)} orphans"
        )
    note = (
        f"{busy_warning()}{rounds} rounds: `triage score --workers 2 --chunk-size {CHUNK}` on {ROWS} rows, "
        f"parent SIGKILLed while a worker holds a random chunk (seed {seed}), then --resume; kill points "
        f"(gated row / chunks committed): {', '.join(kill_points)}"
    )
    return [
        Row("score-kill-resume", "rows_lost", lost, 0, BAR, note),
        Row("score-kill-resume", "rows_duplicated", duplicated, 0, BAR, note),
        Row("score-kill-resume", "orphan_processes", orphans, 0, BAR, note),
        Row("score-kill-resume", "resumes_failed", failed, 0, BAR, note),
    ]


def run(ctx: Context) -> list[Row]:
    rounds = 2 if ctx.quick else 10
    with tempfile.TemporaryDirectory(prefix="triage-reliability-") as tmp:
        work = Path(tmp)
        (work / "kb").mkdir()
        (work / "score").mkdir()
        ctx.log(f"concurrent KB writers: {rounds} rounds")
        rows = _kb_rounds(work / "kb", rounds, ctx.log)
        if sys.platform.startswith("linux"):
            ctx.log(f"kill and resume of triage score --workers 2: {rounds} rounds")
            rows += _kill_resume_rounds(work / "score", rounds, seed=20, log=ctx.log)
        else:  # pragma: no cover - the process checks read /proc
            ctx.skip("score-kill-resume", "needs Linux (/proc)")
    return rows
