"""Issue 20 item 3: `--workers N` leaves no orphan after the parent dies, and SIGTERM stops a run as
cleanly as Ctrl-C (same message, exit 128 + 15, resumable, every row exactly once).

Real `triage score` processes held mid-chunk by a gated encoder in a worker process (see batch_helpers).
"""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from batch_helpers import (
    backlog,
    children,
    cmdline,
    committed,
    env_with,
    error_rows,
    fast_config,
    install_gated_encoder,
    kill_leftovers,
    output_ids,
    run,
    score_cmd,
    start_gated,
    wait_until_gone,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc"),
]


def _setup(tmp_path, n=200, broken_every=0):
    src = tmp_path / "in.jsonl"
    good = backlog(src, n, broken_every=broken_every)
    out = tmp_path / "out.jsonl"
    spec = install_gated_encoder(tmp_path)
    args = ["--encoder", spec, "--config", fast_config(tmp_path), "--chunk-size", "20", "--workers", "2"]
    return src, out, good, score_cmd(src, out, *args), env_with(tmp_path)


def test_sigkill_of_the_parent_leaves_no_worker_alive(tmp_path):
    src, out, _, cmd, env = _setup(tmp_path)
    proc, gate_pid = start_gated(cmd, env, 65, tmp_path / "child.log")  # a worker holds chunk 3
    family = children(proc.pid)
    try:
        workers = [
            p
            for p in family
            if "multiprocessing" in cmdline(p[0]) and "resource_tracker" not in cmdline(p[0])
        ]
        assert len(workers) == 2 and gate_pid in {pid for pid, _ in workers}, [cmdline(p) for p, _ in family]
        proc.kill()
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        # the workers and the resource tracker end with their parent (before the fix: alive minutes later)
        assert wait_until_gone(family) == [], [cmdline(p) for p, _ in family]
    finally:
        kill_leftovers(family)
        proc.kill()
        proc.wait()
    assert not out.exists()


def test_sigterm_stops_like_ctrl_c_and_resume_gives_every_row_once(tmp_path):
    src, out, good, cmd, env = _setup(tmp_path, n=300, broken_every=37)
    log = tmp_path / "child.log"
    commits = tmp_path / "out.jsonl.parts" / "commits.jsonl"
    proc, _ = start_gated(cmd, env, 125, log)  # a worker holds chunk 6 (rows 121-140): it cannot commit
    family = children(proc.pid)
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        assert wait_until_gone(family) == []  # the parent ended its workers itself
    finally:
        kill_leftovers(family)
    stderr = log.read_text()
    kept = committed(commits)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert 0 < kept <= 6 and not out.exists()
    # the same message as Ctrl-C: what is kept and how to continue
    assert (
        f"interrupted: {kept * 20} rows are committed in {tmp_path / 'out.jsonl.parts'}; run the same "
        "command with --resume to continue without re-scoring them"
    ) in stderr.replace("\n", " ")

    resumed = run([*cmd, "--resume"], env)  # no gate
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["resumed_after_rows"] == kept * 20
    ids = output_ids(out)
    assert ids == good and len(set(ids)) == len(ids)
    assert [e["row"] for e in error_rows(tmp_path / "out.jsonl.errors.jsonl")] == list(range(37, 301, 37))
    assert summary["rows"] == 300 and summary["scored"] == len(good)
    assert not (tmp_path / "out.jsonl.parts").exists()


def test_sigterm_before_the_first_commit_leaves_nothing_behind(tmp_path):
    """In-process run held in chunk 0: SIGTERM ends it with nothing to resume, so a plain rerun works."""
    src, out, good, cmd, env = _setup(tmp_path, n=40)
    cmd = [*cmd[:-2], "--workers", "1"]
    log = tmp_path / "child.log"
    proc, gate_pid = start_gated(cmd, env, 5, log)
    assert gate_pid == proc.pid
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    stderr = log.read_text()
    assert proc.returncode == 143, stderr
    assert "nothing was kept" in stderr and "--resume" not in stderr
    assert not (tmp_path / "out.jsonl.parts").exists() and not out.exists()
    again = run(cmd, env)
    assert again.returncode == 0, again.stderr
    assert output_ids(out) == good


def test_a_dead_worker_before_the_first_commit_leaves_nothing_behind(tmp_path):
    """A worker killed (say by the OOM killer) while it holds chunk 0: a clear error, exit 2, no parts."""
    src, out, good, cmd, env = _setup(tmp_path, n=40)
    log = tmp_path / "child.log"
    proc, gate_pid = start_gated(cmd, env, 5, log)
    family = children(proc.pid)
    try:
        os.kill(gate_pid, signal.SIGKILL)
        proc.wait()
        assert wait_until_gone(family) == []
    finally:
        kill_leftovers(family)
    stderr = log.read_text()
    assert proc.returncode == 2, stderr
    assert "a worker process died" in stderr and "nothing was committed" in stderr
    assert not (tmp_path / "out.jsonl.parts").exists() and not out.exists()
    again = run(cmd, env)
    assert again.returncode == 0, again.stderr
    assert output_ids(out) == good
