"""Command line: ``python -m benchmarks <task>|all [--data-dir DIR] [--out DIR] [--quick]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from benchmarks import TASKS
from benchmarks.common import CACHE_DIR, DEFAULT_DATA_DIR, DEFAULT_OUT_DIR, Context, SkipTask, write_results

#: Where ``--quick`` smoke runs write without ``--out`` (git-ignored: they never replace real results).
QUICK_OUT_DIR = CACHE_DIR / "quick-results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("task", choices=[*TASKS, "all"], help="task to run, or 'all'")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"public data sets (default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results folder (default {DEFAULT_OUT_DIR}; with --quick {QUICK_OUT_DIR})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small samples: a smoke run, not numbers to report"
    )
    return parser


def run_task(name: str, ctx: Context) -> list:
    """Run one registered task; a missing data set or model is a printed skip, not a crash."""
    module = importlib.import_module(TASKS[name])
    started = time.perf_counter()
    try:
        rows = list(module.run(ctx))
    except SkipTask as exc:
        ctx.skip(name, str(exc))
        return []
    if not rows:
        print(f"[{name}] no results (everything skipped); nothing written", flush=True)
        return []
    json_path, md_path = write_results(name, rows, ctx.out_dir)
    print(
        f"[{name}] {len(rows)} rows in {time.perf_counter() - started:.1f}s -> {json_path}, {md_path}",
        flush=True,
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = args.out if args.out is not None else (QUICK_OUT_DIR if args.quick else DEFAULT_OUT_DIR)
    ctx = Context(data_dir=args.data_dir.expanduser().resolve(), out_dir=out, quick=args.quick)
    if not ctx.data_dir.is_dir():
        print(
            f"WARNING: data dir {ctx.data_dir} does not exist; tasks that need data will be skipped",
            flush=True,
        )
    names = list(TASKS) if args.task == "all" else [args.task]
    failed: list[str] = []
    for name in names:
        print(f"[{name}] running{' (quick)' if ctx.quick else ''}", flush=True)
        if len(names) == 1:
            run_task(name, ctx)
            continue
        try:  # with 'all', one broken task does not stop the others
            run_task(name, ctx)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            failed.append(name)
    if ctx.skipped:
        print("Skipped:\n  " + "\n  ".join(ctx.skipped), flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
