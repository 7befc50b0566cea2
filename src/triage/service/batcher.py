"""Micro-batching for ``POST /v1/triage``: concurrent requests share one triager call (one encoder pass).

Requests put their tickets in a queue; one batcher task (on the event loop) waits up to ``window_s`` after
the oldest queued ticket arrived, or until ``max_tickets`` are queued, then runs ONE triager call for all of
them on the model thread and hands every request its own results, in its own order.

- A request larger than ``max_tickets`` is split over several calls; a smaller one is never split.
- A cancelled request (timed out, client gone) leaves the queue at once: its tickets that have not started
  never run. A call already running finishes; its results for the cancelled request are discarded.
- Bad tickets give per-ticket ``errors`` (the triager isolates them); if the whole call raises, every request
  of the batch is retried alone, so only the request that fails gets the error.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from triage.schema import Ticket, TriageResult

RunBatch = Callable[[list[Ticket]], list[TriageResult]]


class BatcherStats:
    """Counters of a :class:`Batcher`, safe to read from any thread; ``wait_until`` waits on a change."""

    FIELDS = (
        "requests",
        "batches",
        "tickets",
        "multi_request_batches",
        "largest_batch_requests",
        "largest_batch_tickets",
        "queued_requests",
        "cancelled_requests",
        "dropped_tickets",
        "discarded_tickets",
        "failed_requests",
    )

    def __init__(self) -> None:
        self._values = dict.fromkeys(self.FIELDS, 0)
        self._changed = threading.Condition()

    def __getattr__(self, name: str) -> int:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def snapshot(self) -> dict[str, int]:
        """Every counter, as a plain dict."""
        with self._changed:
            return dict(self._values)

    def update(self, **changes: int) -> None:
        """Add ``changes`` to the counters (``largest_*`` keep their maximum) and wake any waiter."""
        with self._changed:
            for name, value in changes.items():
                if name.startswith("largest_"):
                    self._values[name] = max(self._values[name], value)
                else:
                    self._values[name] += value
            self._changed.notify_all()

    def wait_until(self, predicate: Callable[[dict[str, int]], bool], timeout: float) -> bool:
        """Block until ``predicate(snapshot)`` holds (True) or ``timeout`` seconds pass (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(dict(self._values)), timeout)


@dataclass(eq=False)
class _Job:
    """One request's tickets, its future and how far the batcher got through them."""

    tickets: list[Ticket]
    future: asyncio.Future[list[TriageResult]]
    arrived: float
    next: int = 0  # first ticket not yet handed to a batch
    filled: int = 0  # results received so far
    results: list[TriageResult | None] = field(default_factory=list)


@dataclass
class _Slice:
    job: _Job
    start: int
    end: int

    @property
    def tickets(self) -> list[Ticket]:
        return self.job.tickets[self.start : self.end]


class Batcher:
    """Queue of ticket requests, run in batches on ``executor`` by ``run`` (e.g. ``Triager.triage_batch``).

    ``window_s=0`` and ``max_tickets=1`` turn batching off: one ticket per call, in arrival order.
    """

    def __init__(self, run: RunBatch, executor: Executor, *, window_s: float, max_tickets: int) -> None:
        if window_s < 0 or max_tickets < 1:
            raise ValueError(f"need window_s >= 0 and max_tickets >= 1, got {window_s} and {max_tickets}")
        self._run = run
        self._executor = executor
        self.window_s = window_s
        self.max_tickets = max_tickets
        self.stats = BatcherStats()
        self._queue: deque[_Job] = deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------------------ public
    def submit(self, tickets: Sequence[Ticket]) -> asyncio.Future[list[TriageResult]]:
        """Queue ``tickets``; the future gives their results in order. Cancel it to drop what has not run."""
        loop = asyncio.get_running_loop()
        self._start(loop)
        job = _Job(list(tickets), loop.create_future(), loop.time(), results=[None] * len(tickets))
        if not job.tickets:
            job.future.set_result([])
            return job.future
        job.future.add_done_callback(lambda _: self._on_done(job))
        self._queue.append(job)
        self.stats.update(requests=1, queued_requests=1)
        assert self._arrived is not None
        self._arrived.set()
        return job.future

    async def close(self) -> None:
        """Stop the batcher task; queued requests are cancelled."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        while self._queue:
            self._queue[0].future.cancel()  # its done callback removes it from the queue

    # ------------------------------------------------------------------------------------------ queue
    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None or self._task.done():
            self._arrived = asyncio.Event()
            self._task = loop.create_task(self._loop(), name="triage-batcher")

    def _on_done(self, job: _Job) -> None:
        """A request finished or was cancelled: take what it has left out of the queue."""
        if job in self._queue:
            self._queue.remove(job)
            self.stats.update(queued_requests=-1)
        if job.future.cancelled():
            self.stats.update(cancelled_requests=1, dropped_tickets=len(job.tickets) - job.next)

    def _queued_tickets(self) -> int:
        return sum(len(job.tickets) - job.next for job in self._queue if not job.future.done())

    def _take(self) -> list[_Slice]:
        """The next batch: whole requests in arrival order, up to ``max_tickets`` (big requests split)."""
        slices: list[_Slice] = []
        room = self.max_tickets
        while self._queue and room > 0:
            job = self._queue[0]
            if job.future.done():  # cancelled, its done callback not run yet
                self._queue.popleft()
                self.stats.update(queued_requests=-1)
                continue
            left = len(job.tickets) - job.next
            if slices and room < left <= self.max_tickets:
                break  # it fits whole in the next batch: do not split it
            count = min(left, room)
            slices.append(_Slice(job, job.next, job.next + count))
            job.next += count
            room -= count
            if job.next == len(job.tickets):
                self._queue.popleft()
                self.stats.update(queued_requests=-1)
        return slices

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._arrived is not None
        while True:
            while not self._queue:
                self._arrived.clear()
                await self._arrived.wait()
            deadline = self._queue[0].arrived + self.window_s
            while self._queue and self._queued_tickets() < self.max_tickets:
                left = deadline - loop.time()
                if left <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    break
            slices = self._take()
            if slices:
                await self._run_batch(slices)

    # ------------------------------------------------------------------------------------------ running
    async def _call(self, tickets: list[Ticket]) -> list[TriageResult]:
        results = await asyncio.get_running_loop().run_in_executor(self._executor, self._run, tickets)
        if len(results) != len(tickets):
            raise RuntimeError(f"the triager returned {len(results)} results for {len(tickets)} tickets")
        return results

    async def _run_batch(self, slices: list[_Slice]) -> None:
        tickets = [ticket for part in slices for ticket in part.tickets]
        self.stats.update(
            batches=1,
            tickets=len(tickets),
            multi_request_batches=int(len(slices) > 1),
            largest_batch_requests=len(slices),
            largest_batch_tickets=len(tickets),
        )
        try:
            results = await self._call(tickets)
        except Exception as exc:  # noqa: BLE001 - handed to the request(s), never kills the batcher
            if len(slices) == 1:
                self._fail(slices[0].job, exc)
                return
            for part in slices:  # one request's failure must not fail the others: retry each alone
                if part.job.future.done():
                    continue
                try:
                    self._deliver(part, await self._call(part.tickets))
                except Exception as alone:  # noqa: BLE001
                    self._fail(part.job, alone)
            return
        offset = 0
        for part in slices:
            count = part.end - part.start
            self._deliver(part, results[offset : offset + count])
            offset += count

    def _deliver(self, part: _Slice, results: list[TriageResult]) -> None:
        job = part.job
        if job.future.done():  # cancelled while its batch ran: the results are discarded
            self.stats.update(discarded_tickets=len(results))
            return
        job.results[part.start : part.end] = results
        job.filled += len(results)
        if job.filled == len(job.tickets):
            job.future.set_result([r for r in job.results if r is not None])

    def _fail(self, job: _Job, exc: BaseException) -> None:
        if not job.future.done():
            self.stats.update(failed_requests=1)
            job.future.set_exception(exc)


def describe(batcher: Batcher | None) -> dict[str, Any]:
    """Settings and counters of ``batcher`` for ``/readyz``."""
    if batcher is None:
        return {}
    return {
        "window_ms": round(batcher.window_s * 1000, 3),
        "max_tickets": batcher.max_tickets,
        **batcher.stats.snapshot(),
    }
