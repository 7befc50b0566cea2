"""End-of-run report for a scored backlog, and a drift view against a trained head's training data.

Per-chunk statistics are plain JSON (they are stored in the commit log, so a resumed run reports on every
row, not only the ones scored after the restart); :func:`merge_stats` adds them up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Population stability index above which a label distribution is said to have drifted (rule of thumb:
#: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift).
PSI_MODERATE, PSI_HIGH = 0.1, 0.25


def _inc(counter: dict[str, int], key: Any, by: int = 1) -> None:
    key = "none" if key is None else str(key)
    counter[key] = counter.get(key, 0) + by


def _head_predictions(result: Any) -> dict[str, Any]:
    heads: dict[str, Any] = {}
    if getattr(result, "category", None) is not None:
        heads["category"] = result.category
    if getattr(result, "priority", None) is not None:
        heads["priority"] = result.priority
    for name, pred in (getattr(result, "labels", None) or {}).items():
        heads[name] = pred
    return heads


def chunk_stats(results: Sequence[Any], *, row_errors: int, records: int) -> dict[str, Any]:
    """Counts for one chunk of scored results (JSON-serialisable)."""
    stats: dict[str, Any] = {
        "records": records,
        "scored": len(results),
        "row_errors": row_errors,
        "step_errors": 0,
        "warnings": 0,
        "language": {},
        "sentiment": {},
        "failed_steps": {},
        "heads": {},
    }
    for res in results:
        if res.errors:
            stats["step_errors"] += 1
            for err in res.errors:
                _inc(stats["failed_steps"], err.step)
        stats["warnings"] += bool(res.warnings)
        _inc(stats["language"], res.language)
        if getattr(res, "sentiment", None) is not None:
            _inc(stats["sentiment"], res.sentiment.label)
        for name, pred in _head_predictions(res).items():
            head = stats["heads"].setdefault(
                name, {"n": 0, "abstained": 0, "confidence_sum": 0.0, "labels": {}, "automation": {}}
            )
            head["n"] += 1
            head["abstained"] += bool(pred.abstained)
            head["confidence_sum"] += float(pred.score)
            _inc(head["labels"], pred.label)
            if pred.automation:
                _inc(head["automation"], pred.automation)
    return stats


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = _merge(out[key], value) if key in out else value
        return out
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return b


def merge_stats(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Add up per-chunk statistics."""
    total: dict[str, Any] = {}
    for part in parts:
        total = _merge(total, dict(part))
    return total


# ---------------------------------------------------------------------------------------------- drift
def training_profiles(config: Any) -> dict[str, dict[str, Any]]:
    """Training-data profile of each classifier head the config runs: label counts and held-out rates.

    Read from the saved models' ``config.json`` / ``metrics.json`` (no model is loaded). Heads whose files
    cannot be read are left out; an empty dict when the classify step is not configured.
    """
    if "classify" not in getattr(config, "steps", []):
        return {}
    try:
        from triage.classify.step import default_heads
        from triage.models import resolve_model_dir
    except ImportError:
        return {}
    heads = (config.options.get("classify") or {}).get("heads") or default_heads()
    profiles: dict[str, dict[str, Any]] = {}
    for head, model in heads.items():
        try:
            folder = Path(resolve_model_dir(model))
            cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            metrics_path = folder / "metrics.json"
            metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
        except Exception:  # noqa: BLE001 - a head without readable files gets no drift view
            continue
        counts = (cfg.get("train") or {}).get("label_counts") or {}
        if not counts:
            continue
        profiles[str(head)] = {
            "model": str(model),
            "label_counts": {str(k): int(v) for k, v in counts.items()},
            "heldout_abstain_rate": (
                1.0 - float(metrics["coverage_at_target"]) if "coverage_at_target" in metrics else None
            ),
            "heldout_auto_route_rate": metrics.get("auto_route_coverage"),
            "heldout_mean_confidence": metrics.get("mean_confidence"),
        }
    return profiles


def _shares(counts: Mapping[str, int], labels: Sequence[str]) -> list[float]:
    total = sum(counts.get(label, 0) for label in labels) or 1
    return [counts.get(label, 0) / total for label in labels]


def label_drift(
    backlog_counts: Mapping[str, int], training_counts: Mapping[str, int], *, top: int = 5
) -> dict[str, Any]:
    """Compare predicted label shares on the backlog with the training label shares.

    Returns the total-variation distance (half the L1 distance of the shares, in [0, 1]), the population
    stability index (PSI, shares floored at 1e-4), a verdict and the labels whose share moved most.
    """
    labels = sorted(set(backlog_counts) | set(training_counts))
    p = _shares(training_counts, labels)
    q = _shares(backlog_counts, labels)
    tvd = 0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True))
    psi = sum(
        (max(b, 1e-4) - max(a, 1e-4)) * math.log(max(b, 1e-4) / max(a, 1e-4))
        for a, b in zip(p, q, strict=True)
    )
    movers = sorted(zip(labels, p, q, strict=True), key=lambda t: abs(t[2] - t[1]), reverse=True)[:top]
    verdict = "stable" if psi < PSI_MODERATE else "moderate shift" if psi < PSI_HIGH else "significant shift"
    return {
        "total_variation": round(tvd, 4),
        "psi": round(psi, 4),
        "verdict": verdict,
        "top_movers": [
            {"label": label, "training_share": round(a, 4), "backlog_share": round(b, 4)}
            for label, a, b in movers
        ],
    }


# ---------------------------------------------------------------------------------------------- report
def build_report(
    stats: Mapping[str, Any],
    *,
    elapsed_s: float,
    rows_this_run: int,
    profiles: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The end-of-run report (JSON): counts, distributions, abstain rates, throughput and drift."""
    heads = {}
    drift = {}
    for name, head in (stats.get("heads") or {}).items():
        n = head.get("n", 0) or 0
        heads[name] = {
            "n": n,
            "distribution": dict(sorted(head.get("labels", {}).items(), key=lambda kv: -kv[1])),
            "abstain_rate": round(head.get("abstained", 0) / n, 4) if n else None,
            "mean_confidence": round(head.get("confidence_sum", 0.0) / n, 4) if n else None,
            "automation": head.get("automation", {}),
        }
        profile = (profiles or {}).get(name)
        if profile and n:
            view = label_drift(head.get("labels", {}), profile["label_counts"])
            view["model"] = profile.get("model")
            view["abstain_rate"] = {
                "backlog": heads[name]["abstain_rate"],
                "heldout": _round(profile.get("heldout_abstain_rate")),
            }
            auto = head.get("automation", {}).get("auto_route", 0)
            view["auto_route_rate"] = {
                "backlog": round(auto / n, 4),
                "heldout": _round(profile.get("heldout_auto_route_rate")),
            }
            view["mean_confidence"] = {
                "backlog": heads[name]["mean_confidence"],
                "heldout": _round(profile.get("heldout_mean_confidence")),
            }
            drift[name] = view
    records = int(stats.get("records", 0))
    return {
        "counts": {
            "rows": records,
            "scored": int(stats.get("scored", 0)),
            "row_errors": int(stats.get("row_errors", 0)),
            "step_errors": int(stats.get("step_errors", 0)),
            "with_warnings": int(stats.get("warnings", 0)),
        },
        "failed_steps": stats.get("failed_steps", {}),
        "input_issues": input_issues(stats),
        "language": dict(sorted((stats.get("language") or {}).items(), key=lambda kv: -kv[1])),
        "sentiment": stats.get("sentiment", {}),
        "heads": heads,
        "drift": drift,
        "throughput": {
            "rows_this_run": rows_this_run,
            "elapsed_s": round(elapsed_s, 2),
            "rows_per_s": round(rows_this_run / elapsed_s, 2) if elapsed_s > 0 else None,
        },
        **(dict(extra) if extra else {}),
    }


#: What each input issue code means, for the report and the CLI's warnings.
INPUT_ISSUES = {
    "undecodable": "had bytes not valid in the input encoding (replaced with U+FFFD; pass --encoding)",
    "nul_bytes": "had NUL bytes (removed from the text, or the row refused)",
}


def input_issues(stats: Mapping[str, Any], *, first: int = 20) -> dict[str, dict[str, Any]]:
    """Rows with input problems, by issue: how many and the first row numbers."""
    out: dict[str, dict[str, Any]] = {}
    for issue, rows in sorted((stats.get("input_issues") or {}).items()):
        ordered = sorted(set(rows))
        out[issue] = {"rows": len(ordered), "first_rows": ordered[:first], "meaning": INPUT_ISSUES.get(issue)}
    return out


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _top(dist: Mapping[str, int], total: int, k: int = 8) -> str:
    items = sorted(dist.items(), key=lambda kv: -kv[1])[:k]
    more = len(dist) - len(items)
    text = ", ".join(f"{label} {count} ({100 * count / max(total, 1):.1f}%)" for label, count in items)
    return text + (f", +{more} more" if more > 0 else "")


def render_report(report: Mapping[str, Any]) -> str:
    """A short human-readable version of :func:`build_report`'s output."""
    c = report["counts"]
    t = report["throughput"]
    lines = [
        f"rows {c['rows']}: scored {c['scored']}, row errors {c['row_errors']}, "
        f"tickets with a failed step {c['step_errors']}, with warnings {c['with_warnings']}",
        f"throughput: {t['rows_this_run']} rows in {t['elapsed_s']} s = {t['rows_per_s']} rows/s"
        + (f" (after {t['startup_s']} s loading models)" if t.get("startup_s") is not None else ""),
    ]
    if report.get("language"):
        lines.append(f"language: {_top(report['language'], c['scored'])}")
    if report.get("sentiment"):
        lines.append(f"sentiment: {_top(report['sentiment'], c['scored'])}")
    for name, head in report.get("heads", {}).items():
        lines.append(
            f"{name}: abstain rate {head['abstain_rate']}, mean confidence {head['mean_confidence']}; "
            f"{_top(head['distribution'], head['n'])}"
        )
    for name, view in report.get("drift", {}).items():
        movers = "; ".join(
            f"{m['label']} {m['training_share']:.3f} -> {m['backlog_share']:.3f}" for m in view["top_movers"]
        )
        lines.append(
            f"drift {name} vs training of {view['model']}: PSI {view['psi']} ({view['verdict']}), "
            f"TVD {view['total_variation']}; abstain {view['abstain_rate']['backlog']} vs held-out "
            f"{view['abstain_rate']['heldout']}; largest moves: {movers}"
        )
    if report.get("failed_steps"):
        lines.append(f"failed steps: {report['failed_steps']}")
    for issue, seen in (report.get("input_issues") or {}).items():
        more = ", ..." if seen["rows"] > len(seen["first_rows"]) else ""
        rows = ", ".join(str(r) for r in seen["first_rows"]) + more
        lines.append(f"input: {seen['rows']} row(s) {seen.get('meaning') or issue}: rows {rows}")
    return "\n".join(lines)
