"""Latency of ``POST /v1/triage`` under concurrency, with micro-batching on and off (the anchor), in one run.

The real service (``create_app`` served by uvicorn on 127.0.0.1) with the service's default pipeline
(``TriageConfig(redact=True)``, default encoder: the fastest checked e5 engine, ONNX int8 where installed).
The encoder's in-memory embedding cache is off, so repeated sample texts cost a full model pass each time.
Tickets: the bundled multilingual sample backlog (30 tickets, 6 languages), one ticket per request, cycled,
every request with its own id.

Arms, on the same loaded models:

- batching on: the default ``batch_window_ms`` / ``batch_max_tickets``;
- batching on, encoder batch 1: the same, but the encoder runs one ticket per call inside the micro-batch
  (``encoder_batch_size=1``; the other steps still see the whole batch);
- batching off (anchor): ``batch_window_ms=0, batch_max_tickets=1``, one request per model call in arrival
  order: the service's behaviour before micro-batching.

Scenarios: 1 client x N requests (sequential), and 8 concurrent clients x N requests each (threads, each with
its own connection, started together). p50/p95/max latency per request, requests/s, and the mean number of
tickets per model call (from ``/readyz``). Bars: p95 <= 100 ms for 1 client, <= 2 s for 8 clients.
``SERVICE_BENCH_REQUESTS`` overrides N (50; 10 with ``--quick``).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, Context, Row, SkipTask, busy_warning

REQUESTS = {"full": 50, "quick": 10}
CLIENTS = 8
BARS = {1: 100.0, CLIENTS: 2000.0}  # p95 ms
WARMUP_REQUESTS = 5
#: The third arm's tickets per encoder call inside a micro-batch (ServiceSettings.encoder_batch_size).
ENCODER_BATCH = 1


def _load() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _sample_tickets() -> tuple[list[dict[str, Any]], str]:
    """The bundled sample backlog (installed package first, then the source tree's old place)."""
    candidates: list[Path] = []
    try:
        from triage.bundled import sample_tickets_path

        candidates.append(sample_tickets_path())
    except Exception:  # noqa: BLE001 - older layout: examples/tickets.jsonl
        pass
    candidates.append(REPO_ROOT / "examples" / "tickets.jsonl")
    for path in candidates:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            tickets = [json.loads(line) for line in lines if line.strip()]
            languages = {t.get("metadata", {}).get("expected_language") for t in tickets} - {None}
            return tickets, f"sample backlog ({len(tickets)} tickets, {len(languages)} languages)"
    raise SkipTask("the sample backlog (triage.bundled samples/tickets.jsonl) is missing")


# ------------------------------------------------------------------------------------------- server
class _Server:
    """uvicorn in a thread on a socket bound before it starts; ``up`` is set when its startup ended."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            async def startup(inner, sockets: Any = None) -> None:  # noqa: N805
                try:
                    await super().startup(sockets)
                finally:
                    self.up.set()

        self.up = threading.Event()
        self.app = app
        # proto IPPROTO_TCP, like uvicorn's own host/port sockets (`triage serve`): asyncio sets TCP_NODELAY
        # only on such sockets; without it every response waited ~40 ms on the client's delayed ACK
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = Server(uvicorn.Config(app, log_level="warning", lifespan="on", backlog=256))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        if not (self.up.wait(60) and self.server.started):
            raise RuntimeError("uvicorn did not start")
        state = self.app.state.triage
        if not state.loaded.wait(600) or state.load_error:
            raise RuntimeError(f"the service did not load its models: {state.load_error}")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        self.sock.close()


# ------------------------------------------------------------------------------------------- clients
@dataclass
class Scenario:
    arm: str
    clients: int
    latencies_ms: list[float]
    wall_s: float
    failures: int
    tickets_per_call: float


def _client_loop(
    url: str, tickets: list[dict[str, Any]], start: threading.Barrier
) -> tuple[list[float], int]:
    import httpx

    latencies: list[float] = []
    failures = 0
    with httpx.Client(base_url=url, timeout=600) as client:
        client.get("/healthz")  # open the connection before the clock starts
        start.wait(120)
        for ticket in tickets:
            t0 = time.perf_counter()
            response = client.post("/v1/triage", json=ticket)
            latencies.append((time.perf_counter() - t0) * 1000)
            failures += response.status_code != 200
    return latencies, failures


def _scenario(
    server: _Server, arm: str, clients: int, per_client: int, pool: list[dict], tag: str
) -> Scenario:
    import httpx

    work = [
        [{**pool[(c * per_client + i) % len(pool)], "id": f"{tag}-c{c}-{i}"} for i in range(per_client)]
        for c in range(clients)
    ]
    before = httpx.get(f"{server.url}/readyz").json()["batching"]
    start = threading.Barrier(clients + 1)
    results: list[tuple[list[float], int]] = [([], 0)] * clients

    def worker(c: int) -> None:
        results[c] = _client_loop(server.url, work[c], start)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    start.wait(120)
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    after = httpx.get(f"{server.url}/readyz").json()["batching"]
    calls = after["batches"] - before["batches"]
    tickets = after["tickets"] - before["tickets"]
    return Scenario(
        arm=arm,
        clients=clients,
        latencies_ms=[x for lat, _ in results for x in lat],
        wall_s=wall,
        failures=sum(f for _, f in results),
        tickets_per_call=tickets / calls if calls else 0.0,
    )


def _service_triager(encoder_batch_size: int | None = None, encoder: Any = None) -> Any:
    """The service's default pipeline; no embedding cache, so a repeated text costs a model pass again."""
    from triage.config import TriageConfig
    from triage.encoders import get_encoder
    from triage.pipeline import Triager

    config = TriageConfig(redact=True)
    if encoder_batch_size:
        config = config.model_copy(update={"batch_size": encoder_batch_size})
    return Triager(config, encoder=encoder or get_encoder(config.encoder, cache=False))


def run(ctx: Context) -> list[Row]:
    try:
        import httpx  # noqa: F401
        import uvicorn  # noqa: F401

        from triage.service import ServiceSettings, create_app
    except ImportError as exc:
        raise SkipTask(f"needs the service extra (pip install 'triage[service]'): {exc}") from exc
    per_client = int(os.environ.get("SERVICE_BENCH_REQUESTS", REQUESTS["quick" if ctx.quick else "full"]))
    pool, source = _sample_tickets()
    triager = _service_triager()
    small = _service_triager(ENCODER_BATCH, triager.encoder)  # same loaded encoder, small encoder calls
    on = ServiceSettings(timeout_s=600)
    # arm -> (settings, triager); "off" is the anchor every other arm is judged against
    arms = {
        "off": (ServiceSettings(timeout_s=600, batch_window_ms=0, batch_max_tickets=1), triager),
        "on": (on, triager),
        f"on, encoder batch {ENCODER_BATCH}": (on, small),
    }
    load0 = _load()
    busy = busy_warning()
    scenarios: dict[tuple[str, int], Scenario] = {}
    for clients in (1, CLIENTS):
        for arm, (settings, served) in arms.items():
            with _Server(create_app(settings, triager=served)) as server:
                warm = _scenario(server, arm, 1, WARMUP_REQUESTS, pool, "warm")
                if warm.failures:
                    raise RuntimeError(f"warm-up requests failed on the {arm!r} arm")
                found = _scenario(server, arm, clients, per_client, pool, f"a{len(scenarios)}")
            scenarios[(arm, clients)] = found
            p50, p95 = (_percentile(found.latencies_ms, q) for q in (0.5, 0.95))
            ctx.log(
                f"  batching {arm}, {clients} client(s) x {per_client}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                f"max {max(found.latencies_ms):.0f} ms, {found.tickets_per_call:.1f} tickets/call, "
                f"{found.failures} failures (load {_load()})"
            )
    encoder = getattr(triager.encoder, "name", type(triager.encoder).__name__)
    common = (
        f"{busy}{'+'.join(triager.config.steps)}; encoder {encoder} (no embedding cache); "
        f"uvicorn on 127.0.0.1; batching on: window {on.batch_window_ms:g} ms, max {on.batch_max_tickets} "
        f"tickets/call; load {load0} -> {_load()}"
    )
    anchor_source = "same run, batching off (window 0, 1 ticket/call: the old one-request-at-a-time service)"
    rows: list[Row] = []
    for clients in (1, CLIENTS):
        base = scenarios[("off", clients)]
        for arm in list(arms)[1:]:
            found = scenarios[(arm, clients)]
            dataset = (
                f"POST /v1/triage, {clients} client(s) x {per_client} requests, 1 ticket each, "
                f"batching {arm} ({source})"
            )
            notes = (
                f"{common}; {found.tickets_per_call:.1f} tickets/call, {found.failures} failures "
                f"(off: {base.failures} failures)"
            )
            for metric, q in (("p50_latency_ms", 0.5), ("p95_latency_ms", 0.95), ("max_latency_ms", 1.0)):
                value, anchor = _percentile(found.latencies_ms, q), _percentile(base.latencies_ms, q)
                rows.append(Row(dataset, metric, value, anchor, anchor_source, notes))
            p95, bar = _percentile(found.latencies_ms, 0.95), BARS[clients]
            off95 = _percentile(base.latencies_ms, 0.95)
            rows.append(
                Row(
                    dataset,
                    "p95_within_bar",
                    float(p95 <= bar),
                    1.0,
                    f"bar: p95 <= {bar:g} ms",
                    f"p95 {p95:.0f} ms (off: {off95:.0f} ms); {notes}",
                )
            )
            rate, base_rate = len(found.latencies_ms) / found.wall_s, len(base.latencies_ms) / base.wall_s
            rows.append(Row(dataset, "requests_per_s", rate, base_rate, anchor_source, notes))
            rows.append(
                Row(dataset, "tickets_per_model_call", found.tickets_per_call, 1.0, anchor_source, notes)
            )
    return rows
