"""Exclusive inter-process locks on a lock file (``fcntl.flock``), for read-modify-write of shared files.

``with exclusive_lock(path): ...`` blocks until no other process holds ``path``'s lock. The lock is released
when the block ends or the process dies (the kernel drops a dead process's flock), so a killed writer never
leaves a stale lock behind. Within one process the lock is re-entrant (a save inside an edit that already
holds it does not deadlock), and threads of one process take turns on it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from triage.errors import LockTimeoutError, TriageError

__all__ = ["LockTimeoutError", "exclusive_lock"]

#: Seconds a writer waits on a held lock before it says so (``notify``).
NOTICE_AFTER_S = 2.0


@dataclass
class _Held:
    """This process's hold on one lock file: the threads' turn-taking lock and the flocked handle."""

    turn: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    handle: IO[str] | None = None


_REGISTRY: dict[str, _Held] = {}
_REGISTRY_GUARD = threading.Lock()


def _stderr(message: str) -> None:
    print(f"triage: {message}", file=sys.stderr, flush=True)


def _holder(path: Path) -> str:
    """Who holds the lock, as written in the lock file by the holder (best effort)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "another process"
    return f"process {text}" if text.isdigit() else "another process"


def _acquire(
    handle: IO[str], path: Path, timeout: float | None, notify: Callable[[str], None] | None
) -> None:
    """``flock(LOCK_EX)`` on ``handle``; says so through ``notify`` when the wait passes NOTICE_AFTER_S."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    message = (
        f"waiting for {path}: {_holder(path)} is writing there (another triage command); "
        "this one continues when it finishes"
    )
    timer = threading.Timer(NOTICE_AFTER_S, notify, args=(message,)) if notify is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        if timeout is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
            return
        give_up = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    raise LockTimeoutError(
                        f"{path} is still locked by {_holder(path)} after {timeout:g}s: wait for that "
                        "command to finish (or stop it) and retry"
                    ) from None
                time.sleep(0.05)  # a poll interval for the timeout, not a synchronisation
    finally:
        if timer is not None:
            timer.cancel()


@contextmanager
def exclusive_lock(
    path: str | Path,
    *,
    timeout: float | None = None,
    notify: Callable[[str], None] | None = _stderr,
) -> Iterator[Path]:
    """Hold the exclusive lock on the lock file ``path`` (created if missing) for the ``with`` block.

    Args:
        path: the lock file, e.g. ``STORE/.lock``; its folder must exist and be writable.
        timeout: seconds to wait for another process before :class:`LockTimeoutError`; ``None`` waits
            for as long as it takes, ``0`` fails at once when the lock is held.
        notify: called with a message once the wait passes :data:`NOTICE_AFTER_S` seconds (default: printed
            to stderr); ``None`` says nothing.

    Re-entrant within a process: a nested ``exclusive_lock`` on the same file returns at once in the
    thread that holds it and waits in the others.
    """
    path = Path(path)
    key = os.path.realpath(path)
    with _REGISTRY_GUARD:
        held = _REGISTRY.setdefault(key, _Held())
    if not held.turn.acquire(timeout=-1 if timeout is None else timeout):
        raise LockTimeoutError(
            f"{path} is held by another thread of this process after {timeout:g}s; retry when it is done"
        )
    try:
        if held.depth == 0:
            try:
                handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held across the block
            except OSError as exc:
                raise TriageError(
                    f"cannot create the lock file {path} ({exc.strerror}): the folder must exist and be "
                    "writable by this user"
                ) from None
            try:
                _acquire(handle, path, timeout, notify)
                handle.seek(0)
                handle.truncate()
                handle.write(str(os.getpid()))
                handle.flush()
            except BaseException:
                handle.close()
                raise
            held.handle = handle
        held.depth += 1
        try:
            yield path
        finally:
            held.depth -= 1
            if held.depth == 0 and held.handle is not None:
                try:
                    held.handle.seek(0)
                    held.handle.truncate()
                    fcntl.flock(held.handle, fcntl.LOCK_UN)
                finally:
                    held.handle.close()
                    held.handle = None
    finally:
        held.turn.release()
