"""Shared by the batch tests (test_batch.py, reliability/): real `triage score` runs held at a known point.

A gated encoder stops for good at the chunk holding a chosen row and says so on a pipe, in the main process
(``--workers 1``) or in a worker process (``--workers N``), so a test acts on a run whose state is known
(the chunks before are committed or being committed, this one is being scored) and that cannot finish
first. Waits are on events (a line on a pipe, EOF, a process exit), never on sleeps.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

#: A model-free encoder that holds the run at GATE_ROW. The gate pipe's write end is fd GATE_FD of the
#: `triage score` process; a worker process reaches it through /proc/<parent>/fd (identified by inode).
GATED_ENCODER = """
import os
import signal

from triage.batch.hashing import HashingEncoder


def _gate_path():
    fd = os.environ["GATE_FD"]
    wanted = (int(os.environ["GATE_DEV"]), int(os.environ["GATE_INO"]))
    for pid in (os.getpid(), os.getppid()):
        path = f"/proc/{pid}/fd/{fd}"
        try:
            info = os.stat(path)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == wanted:
            return path
    raise RuntimeError("the gate pipe is not reachable from this process")


class GatedHashing(HashingEncoder):
    name = "gated-hashing"

    def encode(self, texts, *, kind="query", batch_size=32):
        gate = os.environ.get("GATE_ROW")
        if gate and any(f"parcel {gate} is late" in text for text in texts):
            with open(_gate_path(), "wb", buffering=0) as pipe:
                pipe.write(f"gated {os.getpid()}\\n".encode())
            while True:
                signal.pause()  # SIGINT (main process) raises KeyboardInterrupt; SIGTERM/SIGKILL end it
        return super().encode(texts, kind=kind, batch_size=batch_size)


def make():
    return GatedHashing()
"""

FAST_STEPS = ["normalize", "encode"]


def fast_config(folder: Path, **extra: object) -> str:
    """A pipeline config without models (with ``--encoder hashing``); returns its path."""
    path = folder / "fast.json"
    path.write_text(json.dumps({"steps": FAST_STEPS, **extra}), encoding="utf-8")
    return str(path)


def backlog(path: Path, n: int, *, broken_every: int = 0) -> list[str]:
    """JSONL with ``n`` rows; every ``broken_every``-th is broken JSON. Returns the ids of the good rows."""
    ids = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(1, n + 1):
            if broken_every and i % broken_every == 0:
                handle.write('{"id": "broken\n')
                continue
            ids.append(f"T{i}")
            handle.write(
                json.dumps({"id": f"T{i}", "subject": f"Order {i}", "body": f"My parcel {i} is late."})
            )
            handle.write("\n")
    return ids


def output_ids(path: Path) -> list[str]:
    return [json.loads(line)["ticket_id"] for line in path.read_text(encoding="utf-8").splitlines()]


def error_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def committed(commits: Path) -> int:
    """Complete (newline-terminated) commit lines on disk."""
    return commits.read_text(encoding="utf-8").count("\n") if commits.exists() else 0


def score_cmd(src: Path, out: Path, *args: str) -> list[str]:
    """The real `triage score` command line (``python -m triage.cli``)."""
    return [sys.executable, "-m", "triage.cli", "score", str(src), "-o", str(out), "--no-progress", *args]


def env_with(folder: Path, **extra: str) -> dict[str, str]:
    """The environment with ``folder`` importable (gated encoder modules live there)."""
    path = f"{folder}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    return {**os.environ, "PYTHONPATH": path, **extra}


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def install_gated_encoder(folder: Path) -> str:
    """Write the gated encoder module into ``folder``; returns its ``--encoder`` spec."""
    (folder / "gatedenc.py").write_text(GATED_ENCODER, encoding="utf-8")
    return "gatedenc:make"


def start_gated(
    cmd: list[str], env: dict[str, str], gate_row: int, log: Path
) -> tuple[subprocess.Popen, int]:
    """Start ``cmd`` and return once its encoder has reached row ``gate_row`` and stopped there.

    Returns the process and the pid of the process holding the gate (the run's own, or a worker's). The
    wait is on a pipe: a line arrives at the gate, EOF when every holder of the pipe has exited first.
    The child's output goes to ``log`` (a file cannot fill up and stall it the way an unread pipe can).
    """
    read_fd, write_fd = os.pipe()
    info = os.fstat(write_fd)
    gate_env = {
        "GATE_ROW": str(gate_row),
        "GATE_FD": str(write_fd),
        "GATE_DEV": str(info.st_dev),
        "GATE_INO": str(info.st_ino),
    }
    try:
        with open(log, "wb") as sink:
            proc = subprocess.Popen(
                cmd, env={**env, **gate_env}, stdout=sink, stderr=subprocess.STDOUT, pass_fds=(write_fd,)
            )
    finally:
        os.close(write_fd)  # the child holds the only write end: its exit means EOF here
    with os.fdopen(read_fd, "rb") as gate:
        line = gate.readline()
    if not line.startswith(b"gated "):
        proc.wait()
        raise AssertionError(f"the run ended (rc {proc.returncode}) before row {gate_row}: {log.read_text()}")
    return proc, int(line.split()[1])


# --------------------------------------------------------------------------- processes, by pid (Linux /proc)
#: A process as (pid, start time in clock ticks since boot): a pid reused by a new process is not it.
Proc = tuple[int, str]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ..., starttime at [19]


def children(pid: int) -> list[Proc]:
    """The running children of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[1] == str(pid) and fields[0] not in ("Z", "X"):
                found.append((int(entry.name), fields[19]))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(proc: Proc) -> bool:
    """True while the process runs (a zombie waiting to be reaped has ended: it holds no memory)."""
    fields = _stat_fields(proc[0])
    return fields is not None and fields[19] == proc[1] and fields[0] not in ("Z", "X")


def wait_until_gone(procs: Iterable[Proc], *, deadline_s: float = 30.0) -> list[Proc]:
    """Wait until none of ``procs`` runs; returns those still running at the (generous) deadline.

    Each process is watched through a pidfd, which becomes readable when it exits: an event, not a poll.
    The deadline is a hang guard, not a timing assertion.
    """
    watched: dict[int, Proc] = {}
    try:
        for proc in procs:
            try:
                fd = os.pidfd_open(proc[0])
            except ProcessLookupError:
                continue
            if alive(proc):  # checked with the fd held, so a reused pid cannot be mistaken for ours
                watched[fd] = proc
            else:
                os.close(fd)
        poller = select.poll()
        for fd in watched:
            poller.register(fd, select.POLLIN)
        give_up = time.monotonic() + deadline_s
        pending = dict(watched)
        while pending and (left := give_up - time.monotonic()) > 0:
            for fd, _ in poller.poll(left * 1000):
                poller.unregister(fd)
                pending.pop(fd, None)
        return sorted(proc for proc in pending.values() if alive(proc))
    finally:
        for fd in watched:
            os.close(fd)


def kill_leftovers(procs: Iterable[Proc]) -> None:
    """End processes a failed test left behind (by pid and start time, never by name)."""
    for proc in procs:
        if alive(proc):
            try:
                os.kill(proc[0], signal.SIGKILL)
            except ProcessLookupError:
                pass


def start_at_barrier(commands: list[list[str]]) -> list[subprocess.Popen]:
    """Start every command held at a barrier; release them all at once when each has said it is ready.

    Each waits in ``read`` on its own pipe (its stdin); the test writes the release line to every pipe only
    after reading every process's "ready", so no process can start its work before the last one is up.
    """
    procs, gates = [], []
    for cmd in commands:
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen(
                ["sh", "-c", 'echo ready; read go; exec "$@" </dev/null', "sh", *cmd],
                stdin=read_end,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        finally:
            os.close(read_end)
        procs.append(proc)
        gates.append(write_end)
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for gate in gates:
        os.write(gate, b"go\n")
    for gate in gates:
        os.close(gate)
    return procs
