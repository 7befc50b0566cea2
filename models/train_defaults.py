"""Train the default heads ``bitext-category`` and ``bitext-intent`` into ``src/triage/bundled/models``.

Run from the repository root (needs ``../shared/data/bitext-customer-support``)::

    .venv/bin/python models/train_defaults.py [--data-dir ../shared/data]

Data: Bitext customer-support utterances (English, CDLA-Sharing-1.0). Split (the same as
``python -m benchmarks classification``): the 8k collection with duplicate texts removed, 80/20 stratified by
intent with seed 0; the heads are trained on the 80 % and measured on the 20 % and on an out-of-collection
sample of the 20k collection. Features are fixed to the multilingual embedding (no English TF-IDF) so the
English-trained heads carry over to the other languages the encoder reads; the benchmark reports the
hybrid alternative beside it. Embeddings come from the benchmarks' shared cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Where the package's bundled heads live in the source tree (shipped in the wheel as package data).
BUNDLED = REPO / "src" / "triage" / "bundled" / "models"
sys.path.insert(0, str(REPO))

from benchmarks import classification as bench  # noqa: E402
from benchmarks.common import DEFAULT_DATA_DIR, Context, cached_encoder  # noqa: E402

HEADS = {
    "category": ("bitext-category", "Bitext category: which department / queue (11 labels)"),
    "intent": ("bitext-intent", "Bitext intent: what the customer wants (27 labels)"),
}
LIMITATIONS = (
    "Trained on synthetic English utterances (Bitext); real tickets are longer and noisier, so expect lower "
    "accuracy and more abstentions on them: retrain on your own ticket history with `triage train`. Other "
    "languages are handled through the multilingual encoder only (no non-English training data); see the "
    "cross-lingual rows of `benchmarks/results/classification.md`. The categories are Bitext's: tickets "
    "outside them (outages, bugs, legal) get the closest one, usually with a low score, so watch abstentions."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out-dir", type=Path, default=BUNDLED)
    args = parser.parse_args(argv)
    ctx = Context(data_dir=args.data_dir.resolve())
    if ctx.dataset("bitext-customer-support") is None:
        return 1
    from triage.classify.evaluate import evaluate

    encoder = cached_encoder()
    split = bench.bitext_split(ctx.data_dir)
    emb = bench.embed_split(encoder, split)
    train, test, other, calib = split["train"], split["test"], split["other"], split["calibration"]
    cross = bench.crosslingual_sets()
    for field, (name, description) in HEADS.items():
        model = bench.train_bitext_head(split, field, encoder, emb, features="embedding", memory_per_class=40)
        test_rep = evaluate(
            model, [r["text"] for r in test], [r[field] for r in test], embeddings=emb["test"]
        )
        other_rep = evaluate(
            model, [r["text"] for r in other], [r[field] for r in other], embeddings=emb["other"]
        )
        evaluation = [
            f"- test split ({test_rep.n} utterances): accuracy {test_rep.accuracy:.4f}, macro-F1 "
            f"{test_rep.macro_f1:.4f}, ECE {test_rep.ece:.4f}, coverage at the abstain threshold "
            f"{test_rep.coverage:.3f} with precision {test_rep.precision_at_threshold:.4f}",
            f"- out-of-collection (20k sample, {other_rep.n} utterances): accuracy {other_rep.accuracy:.4f}, "
            f"macro-F1 {other_rep.macro_f1:.4f}, ECE {other_rep.ece:.4f}, coverage at the abstain threshold "
            f"{other_rep.coverage:.3f} with precision {other_rep.precision_at_threshold:.4f}",
        ]
        model.metrics_["test"] = {
            k: v for k, v in test_rep.to_dict().items() if k not in ("confusion", "curve")
        }
        model.metrics_["out_of_collection"] = {
            k: v for k, v in other_rep.to_dict().items() if k not in ("confusion", "curve")
        }
        if field == "category":
            per_lang = {}
            for lang, (texts, labels) in cross.items():
                preds = model.predict(texts, embeddings=bench.embed(encoder, texts, lang))
                per_lang[lang] = round(float((preds == labels).mean()), 4)
            model.metrics_["crosslingual_accuracy"] = per_lang
            evaluation.append(
                "- cross-lingual accuracy (hand-written de/hu/ru/en set, 15 each; `sample-*`: the bundled "
                "sample tickets): " + ", ".join(f"{k} {v:.3f}" for k, v in per_lang.items())
            )
        extra = {
            "name": name,
            "description": description + ". Default head of `triage` (`ClassifyStep`).",
            "data": "Bitext customer-support sample datasets (`bitext_customer_service_8k.csv`), English, "
            "synthetic utterances, licence CDLA-Sharing-1.0 (see ../shared/data/bitext-customer-support). "
            "Label names follow the 8k file (INVOICE, REFUND, SHIPPING_ADDRESS; the 20k file's INVOICES, "
            "REFUNDS, SHIPPING and check_invoices are mapped to them).",
            "split": "8k collection, duplicates removed (case-insensitive), 80/20 stratified by intent, "
            f"seed 0: {len(train)} training / {len(test)} test utterances. From the 20k collection "
            "(another generation batch): up to 100 distinct utterances per intent (seed 0), minus texts "
            f"in the training split, halved by intent into a calibration set ({len(calib)}: temperature "
            f"and abstain / auto-route thresholds) and an out-of-collection test ({len(other)}). Features "
            "and C are chosen on a 20 % stratified split of the training part; the head is then refitted "
            "on the whole training part. The thresholds come from the 20k calibration half because the "
            "8k held-out part is too easy (~100 %) to set thresholds that hold on other phrasings and "
            "languages.",
            "evaluation": "\n".join(evaluation),
            "intended_use": "Routing customer-support tickets to the Bitext categories / intents, with "
            "abstain for human review; a starting point until a head is trained on the user's own tickets.",
            "limitations": LIMITATIONS,
        }
        out = model.save(args.out_dir / name, extra=extra)
        print(
            json.dumps(
                {
                    "model": str(out),
                    "test_macro_f1": round(test_rep.macro_f1, 4),
                    "test_accuracy": round(test_rep.accuracy, 4),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
