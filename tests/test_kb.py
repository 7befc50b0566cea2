"""Knowledge base, similar tickets and their persistence, with a small hashing encoder (no model needed).

The hashing encoder is a real bag-of-words encoder (lexical overlap -> cosine), enough to test indexing,
search plumbing, persistence and errors quickly; retrieval quality with the real encoder is in test_kb_models.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from triage.errors import EncoderMismatchError, InputError, TriageError
from triage.kb import (
    FeedbackLog,
    KnowledgeBase,
    ReplySuggester,
    TicketIndex,
    VectorIndex,
    community_detection,
    find_duplicates,
    group_duplicates,
    load_articles,
    reciprocal_rank_fusion,
    trend_clusters,
)
from triage.kb.store import POINTER, read_current
from triage.kb.text import chunk_text, tokenize
from triage.models import ModelIntegrityError

REPO = Path(__file__).resolve().parents[1]
SAMPLE_KB = REPO / "src" / "triage" / "bundled" / "samples" / "kb"

HASH_ENCODER_SRC = '''
import re, zlib
import numpy as np

class HashEncoder:
    """Bag of words hashed into `dim` buckets, L2-normalised (a tiny, real lexical encoder)."""

    def __init__(self, dim=4096, name=None):
        self.dim = dim
        self.name = name or f"test/hash-{dim}"

    def encode(self, texts, *, kind="query", batch_size=32):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\\w+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
'''
exec(HASH_ENCODER_SRC)  # defines HashEncoder here and, verbatim, in the crash-test child process

ARTICLES = [
    {
        "id": "reset",
        "title": "Reset your password",
        "body": "Choose forgot password and open the reset link.",
        "url": "https://help.example.com/reset",
        "variants": {"de": {"title": "Passwort zurücksetzen", "body": "Wählen Sie Passwort vergessen."}},
    },
    {
        "id": "refund",
        "title": "When will I get my refund",
        "body": "Refunds reach your card in 5 to 10 days.",
    },
    {"id": "track", "title": "Track your parcel", "body": "Open the tracking link in the shipping email."},
    {"id": "cancel", "title": "Cancel your subscription", "body": "Open subscription settings and cancel."},
]


@pytest.fixture()
def hash_encoder():
    return HashEncoder()  # noqa: F821 - defined by exec above


@pytest.fixture()
def kb(hash_encoder):
    return KnowledgeBase.build(ARTICLES, hash_encoder)


# ------------------------------------------------------------------------------------------ text + articles
def test_chunk_text_packs_paragraphs_and_cuts_long_ones():
    text = "First paragraph.\n\nSecond one.\n\n" + "A sentence that goes on. " * 40
    chunks = chunk_text(text, max_chars=120)
    assert chunks[0] == "First paragraph.\n\nSecond one."
    assert all(len(c) <= 120 for c in chunks)
    assert " ".join(" ".join(c.split()) for c in chunks).count("A sentence that goes on.") == 40
    with pytest.raises(ValueError):
        chunk_text("x", max_chars=10)


def test_tokenize_stems_per_language_and_drops_stopwords():
    assert tokenize("The refunds and the refunded", "en") == ["refund", "refund"]
    assert tokenize("Die Rückerstattungen", "de") == tokenize("Rückerstattung", "de")
    assert tokenize("Zzz QWE", "xx") == ["zzz", "qwe"]  # unknown language: plain lower-cased words


def test_sample_kb_folder_loads_with_language_variants():
    articles = {a.id: a for a in load_articles(SAMPLE_KB)}
    assert len(articles) >= 15
    dc = articles["double-charge"]
    assert dc.language == "en" and set(dc.variants) >= {"de", "hu", "ru", "fr", "es"}
    assert dc.url and dc.url.startswith("https://")
    assert dc.in_language("hu").url == dc.url  # a variant without its own url inherits the article's
    assert "kétszer" in dc.variants["hu"].title.lower()
    assert {"billing", "payment"} <= set(dc.tags)


def test_csv_and_jsonl_importers_group_language_rows(tmp_path):
    csv_path = tmp_path / "kb.csv"
    csv_path.write_text(
        "id,title,body,language\n1,Refunds,Money back in 5 days,en\n1,Erstattung,Geld zurück,de\n"
        "2,Login,Reset the password,en\n",
        encoding="utf-8",
    )
    articles = load_articles(csv_path)
    assert [a.id for a in articles] == ["1", "2"] and articles[0].variants["de"].title == "Erstattung"
    jsonl = tmp_path / "kb.jsonl"
    jsonl.write_text("\n".join(json.dumps(a) for a in ARTICLES), encoding="utf-8")
    assert [a.id for a in load_articles(jsonl)] == [a["id"] for a in ARTICLES]


def test_bad_articles_give_clear_errors(tmp_path, hash_encoder):
    with pytest.raises(InputError, match="no text"):
        load_articles(_write(tmp_path / "a.jsonl", [{"id": "x", "title": " ", "body": ""}]))
    with pytest.raises(InputError, match="duplicate article id 'x'"):
        load_articles(_write(tmp_path / "b.jsonl", [{"id": "x", "title": "A"}, {"id": "x", "title": "B"}]))
    with pytest.raises(InputError, match="duplicate article id"):
        KnowledgeBase.build([{"id": "x", "title": "A"}, {"id": "x", "title": "B"}], hash_encoder)
    kb = KnowledgeBase.build([{"id": "x", "title": "A"}], hash_encoder)
    with pytest.raises(InputError, match="already in the knowledge base"):
        kb.add([{"id": "x", "title": "again"}])
    with pytest.raises(InputError, match="not found"):
        load_articles(tmp_path / "missing.csv")
    folder = tmp_path / "md"
    folder.mkdir()
    (folder / "orphan.de.md").write_text("# Titel\n\nText", encoding="utf-8")
    with pytest.raises(InputError, match="no article with that id"):
        load_articles(folder)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ vector index
def test_vector_index_add_remove_update_and_hnsw_switch(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(32, hnsw_threshold=200)
    index.add(np.arange(150), vectors[:150])
    assert index.kind == "flat"
    index.add(np.arange(150, 300), vectors[150:])
    assert index.kind == "hnsw" and len(index) == 300
    assert index.search(vectors[:1], 1)[1][0, 0] == 0
    index.remove([0])
    assert 0 not in index.search(vectors[:1], 5)[1][0]
    with pytest.raises(InputError, match="already in the index"):
        index.add([5], vectors[:1])
    index.update([5], vectors[:1])  # id 5 now holds vector 0
    assert index.search(vectors[:1], 1)[1][0, 0] == 5
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert loaded.kind == "hnsw" and len(loaded) == 299
    assert loaded.search(vectors[:1], 1)[1][0, 0] == 5
    scores, ids = VectorIndex(32).search(vectors[:2], 3)
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a"]], k=60)
    assert fused["a"] == fused["b"] > fused["c"]
    assert (
        reciprocal_rank_fusion([["a", "b"], ["b"]], k=60)["b"]
        > reciprocal_rank_fusion([["a", "b"], ["b"]])["a"]
    )


# ------------------------------------------------------------------------------------------ knowledge base
def test_search_modes_find_the_right_article(kb):
    for mode in ("dense", "bm25", "fused"):
        result = kb.search("my refund has not reached my card", k=3, mode=mode)
        assert result.hits[0].article_id == "refund", mode
    hit = kb.search("forgot password reset link", k=1, mode="fused").hits[0]
    assert hit.article_id == "reset" and hit.url == "https://help.example.com/reset"
    assert "reset link" in hit.passage and hit.dense_rank == 1 and hit.bm25_rank == 1


def test_search_prefers_the_customers_language_variant(kb):
    hit = kb.search("Passwort vergessen zurücksetzen", k=1, language="de").hits[0]
    assert hit.article_id == "reset" and hit.language == "de" and "Passwort vergessen" in hit.passage


def test_add_upsert_remove_without_rebuild(kb):
    kb.add([{"id": "address", "title": "Change delivery address", "body": "Edit the address of the order."}])
    assert kb.search("change my delivery address", k=1).hits[0].article_id == "address"
    kb.upsert([{"id": "address", "title": "Invoices", "body": "Download the invoice PDF."}])
    assert kb.search("download invoice pdf", k=1).hits[0].article_id == "address"
    assert len(kb) == 5
    kb.remove(["address"])
    assert "address" not in kb and all(c.article_id != "address" for c in kb.chunks.values())
    assert all(h.article_id != "address" for h in kb.search("download invoice pdf", k=5).hits)
    with pytest.raises(InputError, match="no such article"):
        kb.remove(["nope"])


def test_save_load_roundtrip_and_integrity(tmp_path, kb, hash_encoder):
    kb.save(tmp_path / "kb")
    loaded = KnowledgeBase.load(tmp_path / "kb", hash_encoder)
    assert set(loaded.articles) == set(kb.articles) and len(loaded.chunks) == len(kb.chunks)
    query = "tracking link shipping email"
    assert [h.article_id for h in loaded.search(query).hits] == [h.article_id for h in kb.search(query).hits]
    # a second save replaces the version and leaves exactly one
    loaded.remove(["cancel"])
    loaded.save(tmp_path / "kb")
    versions = [p.name for p in (tmp_path / "kb").iterdir() if p.is_dir()]
    assert versions == [json.loads((tmp_path / "kb" / POINTER).read_text())["version"]]
    assert "cancel" not in KnowledgeBase.load(tmp_path / "kb", hash_encoder)
    # tampering is detected
    folder = tmp_path / "kb" / versions[0]
    (folder / "config.json").write_text((folder / "config.json").read_text().replace('"dense"', '"bm25"'))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        KnowledgeBase.load(tmp_path / "kb", hash_encoder)


def test_search_takes_a_query_or_a_list_and_search_batch_is_the_list_form(kb):
    queries = ["my refund has not reached my card", "Passwort vergessen zurücksetzen"]
    one = kb.search(queries[0], k=2)
    many = kb.search(queries, k=2, language=["en", "de"])
    assert isinstance(many, list) and [r.query for r in many] == queries
    assert many[0] == one and many[1] == kb.search(queries[1], k=2, language="de")
    assert kb.search_batch(queries, 2, languages=["en", "de"]) == many
    assert kb.search(queries, k=2, language="en") == [kb.search(q, k=2, language="en") for q in queries]
    assert kb.search([], k=2) == []
    with pytest.raises(InputError, match="one entry per query"):
        kb.search(queries, language=["en"])
    with pytest.raises(ValueError, match="mode"):
        kb.search(queries[0], mode="sparse")


def test_results_are_pydantic_models_with_the_old_fields(kb, hash_encoder):
    from pydantic import BaseModel

    from triage.kb import ArticleHit, DuplicatePair, SearchResult, SuggestionSet

    result = kb.search("tracking link shipping email", k=1)
    assert isinstance(result, SearchResult) and isinstance(result.hits[0], ArticleHit)
    assert list(result.to_dict()) == ["query", "mode", "margin", "gap", "hits"]
    assert set(result.hits[0].to_dict()) >= {"article_id", "title", "score", "passage", "language", "url"}
    found = ReplySuggester(kb, k=1, min_margin=0.0).suggest(["reset password", "refund card"])
    assert all(isinstance(s, SuggestionSet) for s in found) and found[0].suggestions[0].article_id == "reset"
    pair = find_duplicates(
        ["password reset", "password reset now"], 0.0, method="cosine", encoder=hash_encoder
    )
    assert isinstance(pair[0], DuplicatePair) and isinstance(pair[0], BaseModel)
    assert set(pair[0].to_dict()) == {"a", "b", "score", "cosine"}


def test_manifest_names_the_kind_and_older_saves_without_it_load(tmp_path, kb, hash_encoder):
    kb.save(tmp_path / "kb")
    TicketIndex.build(TICKETS, hash_encoder).save(tmp_path / "idx")
    folder = tmp_path / "kb" / json.loads((tmp_path / "kb" / POINTER).read_text())["version"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["type"] == "KnowledgeBase" and manifest["format"] == "triage-kb"
    with pytest.raises(ModelIntegrityError, match="kb.sqlite is not listed"):  # the files differ first
        KnowledgeBase.load(tmp_path / "idx", hash_encoder)
    with pytest.raises(ModelIntegrityError, match="holds a TicketIndex, not a KnowledgeBase"):
        read_current(tmp_path / "idx", kind="KnowledgeBase")
    del manifest["type"]  # as saved before the kind was recorded: still loads
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert set(KnowledgeBase.load(tmp_path / "kb", hash_encoder).articles) == set(kb.articles)


def test_encoder_mismatch_is_a_clear_error(tmp_path, kb):
    kb.save(tmp_path / "kb")
    with pytest.raises(EncoderMismatchError, match="test/hash-4096.*rebuild"):
        KnowledgeBase.load(tmp_path / "kb", HashEncoder(dim=128))  # noqa: F821
    with pytest.raises(EncoderMismatchError):
        KnowledgeBase.load(tmp_path / "kb", HashEncoder(dim=4096, name="other/encoder"))  # noqa: F821
    with pytest.raises(EncoderMismatchError, match="shape"):
        kb.search("x", embedding=np.ones(128, dtype=np.float32))


def test_save_refuses_a_foreign_folder_and_load_a_non_kb(tmp_path, kb):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(TriageError, match="not empty"):
        kb.save(tmp_path / "docs")
    with pytest.raises(TriageError, match="not a saved triage index"):
        KnowledgeBase.load(tmp_path / "docs")


def test_a_store_without_a_committed_version_is_named_as_such_not_empty(tmp_path, kb):
    """A KB folder whose CURRENT.json is gone (first save killed before its commit) is not an empty source."""
    path = tmp_path / "kb"
    kb.save(path)
    (path / POINTER).unlink()
    for opener in (KnowledgeBase.open, KnowledgeBase.load, TicketIndex.open):
        with pytest.raises(TriageError, match="no committed version") as info:
            opener(path)
        assert f"triage kb build SOURCE --out {path}" in str(info.value)
    proc = subprocess.run(
        [sys.executable, "-m", "triage.cli", "kb", "search", str(path), "reset password"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and not proc.stdout
    assert "no committed version" in proc.stderr and "empty" not in proc.stderr, proc.stderr


def test_opening_a_folder_with_no_articles_says_what_is_missing(tmp_path, hash_encoder):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="holds no articles.*no CURRENT.json.*triage kb build"):
        KnowledgeBase.open(tmp_path / "nothing", hash_encoder, cache=False)
    proc = subprocess.run(
        [sys.executable, "-m", "triage.cli", "kb", "search", str(tmp_path / "nothing"), "x"],
        capture_output=True,
        text=True,
        env={**os.environ, "TRIAGE_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert proc.returncode == 2 and "holds no articles" in proc.stderr, proc.stderr


def test_every_save_holds_the_store_lock_and_a_lock_file_does_not_make_a_folder_foreign(tmp_path, kb):
    from triage.kb.store import LOCK
    from triage.locking import LockTimeoutError, exclusive_lock

    path = tmp_path / "kb"
    kb.save(path)
    assert (path / LOCK).is_file()
    kb.upsert([{"id": "extra", "title": "Extra article"}])
    kb.save(path)  # a second save into the folder that now holds the lock file
    assert "extra" in KnowledgeBase.load(path, HashEncoder()).articles  # noqa: F821
    with exclusive_lock(path / LOCK):  # this process holds it: its own save is re-entrant
        kb.save(path)
    with exclusive_lock(path / LOCK, timeout=0):  # and released afterwards
        pass
    assert LockTimeoutError.__mro__[1] is TriageError


CHILD = HASH_ENCODER_SRC + textwrap.dedent("""
    import signal
    import sys
    from triage.kb import KnowledgeBase, store

    PATH, STEP, NTH, AT_SAVE = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    calls = {"save": 0, "step": 0}

    def gate(original):
        def gated(*args, **kwargs):
            calls["step"] += 1
            if calls["save"] == AT_SAVE and calls["step"] == NTH:
                print("gated", flush=True)
                while True:  # held here, in the middle of a save, until the test's SIGKILL
                    signal.pause()
            return original(*args, **kwargs)
        return gated

    setattr(store, STEP, gate(getattr(store, STEP)))
    kb = KnowledgeBase.load(PATH, HashEncoder())
    for n in range(1, AT_SAVE + 1):
        calls["save"], calls["step"] = n, 0
        kb.upsert([{"id": f"extra-{n}", "title": f"Extra article {n}", "body": "filler text " * 200}])
        kb.save(PATH)
    print("finished", flush=True)
""")


@pytest.mark.parametrize(
    ("step", "nth", "committed"),
    [
        # data files written, manifest not yet
        pytest.param("write_manifest", 1, False, marks=pytest.mark.slow),
        # the new version complete in its temp folder, not renamed
        pytest.param("_fsync_tree", 1, False, marks=pytest.mark.slow),
        # the version renamed into place, the pointer not yet swapped (`make test-fast` keeps this one)
        ("_fsync_dir", 2, False),
        # the pointer swapped (the commit point), the old version not yet removed
        pytest.param("_fsync_dir", 3, True, marks=pytest.mark.slow),
    ],
)
def test_killing_a_save_never_corrupts_the_kb(tmp_path, kb, hash_encoder, step, nth, committed):
    """SIGKILL lands inside the third save at a known step (the child waits there), never by chance."""
    path = tmp_path / "kb"
    kb.save(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), step, str(nth), "3"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "gated"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    loaded = KnowledgeBase.load(path, hash_encoder)  # verifies every hash of the version it points to
    extras = sorted(int(a.split("-")[1]) for a in loaded.articles if a.startswith("extra-"))
    assert set(ARTICLES[i]["id"] for i in range(4)) <= set(loaded.articles)
    assert extras == ([1, 2, 3] if committed else [1, 2])  # saves 1-2 complete; the third all or nothing
    assert loaded.search("reset password", k=1).hits[0].article_id == "reset"
    loaded.upsert([{"id": "after", "title": "After the crash"}])
    loaded.save(path)  # cleans the killed save's temp folder
    assert not [p for p in path.iterdir() if p.name.startswith(".tmp")]
    versions = [p.name for p in path.iterdir() if p.is_dir()]
    assert versions == [json.loads((path / POINTER).read_text())["version"]]


# ------------------------------------------------------------------------------------------ suggestions
def test_suggester_drafts_in_customer_language_or_flags(kb, tmp_path):
    suggester = ReplySuggester(kb, k=2, min_margin=0.0, feedback=tmp_path / "fb.jsonl")
    de = suggester.suggest("Passwort vergessen zurücksetzen", language="de", name="Frau Weber")
    top = de.suggestions[0]
    assert not de.abstained and top.article_id == "reset" and top.draft_language == "de"
    assert top.draft.startswith("Guten Tag Frau Weber,") and "https://help.example.com/reset" in top.draft
    assert not top.needs_translation and top.rank == 1 and de.suggestions[1].draft is None
    hu = suggester.suggest("refund card days", language="hu")
    assert hu.suggestions[0].article_id == "refund" and hu.suggestions[0].needs_translation
    assert hu.suggestions[0].draft_language == "en"
    suggester.record_feedback("T-1", "reset", "accepted")
    suggester.record_feedback("T-2", "refund", "edited", edited_text="Your refund is on its way.")
    suggester.record_feedback("T-3", "refund", "rejected", agent="anna")
    summary = FeedbackLog(tmp_path / "fb.jsonl").summary()
    assert summary["events"] == 3 and summary["acceptance_rate"] == pytest.approx(2 / 3)
    assert summary["most_rejected"] == [("refund", 1)]
    with pytest.raises(InputError, match="action"):
        suggester.record_feedback("T-4", "refund", "liked")


def test_suggester_abstains_when_nothing_stands_out(kb):
    strict = ReplySuggester(kb, k=3, min_margin=1e6).suggest("completely unrelated words")
    assert strict.abstained and all(s.abstained and s.draft is None for s in strict.suggestions)
    assert ReplySuggester(KnowledgeBase(HashEncoder())).suggest("x").suggestions == []  # noqa: F821


# ------------------------------------------------------------------------------------------ similar tickets
TICKETS = [
    {
        "id": "T1",
        "subject": "Cannot log in",
        "body": "I cannot log in, password reset link broken",
        "resolution": "Sent a new reset link",
    },
    {"id": "T2", "subject": "Login broken", "body": "password reset link broken, cannot log in"},
    {"id": "T3", "subject": "Refund", "body": "Where is my refund for order 55"},
    {"id": "T4", "subject": "Parcel", "body": "My parcel never arrived at home"},
]


def test_ticket_index_find_similar_save_load(tmp_path, hash_encoder):
    index = TicketIndex.build(TICKETS, hash_encoder)
    hits = index.find_similar({"id": "new", "body": "password reset link is broken, I cannot log in"}, k=2)
    assert [h.ticket_id for h in hits][:2] in (["T1", "T2"], ["T2", "T1"])
    t1 = next(h for h in hits if h.ticket_id == "T1")
    assert t1.resolution == "Sent a new reset link" and t1.subject == "Cannot log in"
    assert all(
        h.ticket_id != "T2" for h in index.find_similar(TICKETS[1], k=3)
    )  # the ticket itself is excluded
    index.save(tmp_path / "idx")
    loaded = TicketIndex.load(tmp_path / "idx", hash_encoder)
    assert [h.ticket_id for h in loaded.find_similar("refund order", k=1)] == ["T3"]
    loaded.remove(["T3"])
    assert "T3" not in [h.ticket_id for h in loaded.find_similar("refund order", k=3)]
    with pytest.raises(InputError, match="already in the index"):
        loaded.add([TICKETS[0]])
    with pytest.raises(InputError, match="no id"):
        loaded.add([{"body": "no id here"}])
    with pytest.raises(EncoderMismatchError):
        TicketIndex.load(tmp_path / "idx", HashEncoder(dim=64))  # noqa: F821


def test_ticket_index_search_takes_a_ticket_or_a_list(hash_encoder):
    index = TicketIndex.build(TICKETS, hash_encoder)
    query = {"id": "new", "body": "password reset link is broken, I cannot log in"}
    assert index.search(query, k=2) == index.find_similar(query, k=2)
    both = index.search([query, "refund order"], k=1)
    assert both == [index.find_similar(query, k=1), index.find_similar("refund order", k=1)]
    assert index.search(TICKETS[1], k=3, exclude=["T1"]) == index.find_similar(
        TICKETS[1], k=3, exclude=["T1"]
    )
    assert all(h.ticket_id not in {"T1", "T2"} for h in index.search(TICKETS[1], k=3, exclude=["T1"]))
    assert index.search([], k=2) == []


def test_find_duplicates_and_groups(hash_encoder):
    texts = [
        "password reset link broken",
        "the password reset link is broken",
        "refund missing for order",
        "my refund is missing for the order",
        "parcel lost",
        "nice weather today",
    ]
    pairs = find_duplicates(texts, 0.5, method="cosine", encoder=hash_encoder)
    assert {(p.a, p.b) for p in pairs} == {("0", "1"), ("2", "3")}
    assert group_duplicates(pairs) == [["0", "1"], ["2", "3"]]
    assert find_duplicates(texts[:1], encoder=hash_encoder) == []
    with pytest.raises(ValueError):
        find_duplicates(texts, method="jaccard", encoder=hash_encoder)


def test_community_detection_matches_sentence_transformers_semantics():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((3, 16))
    emb = np.vstack(
        [c + 0.05 * rng.standard_normal((n, 16)) for c, n in zip(centres, (6, 4, 2), strict=True)]
    )
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    communities = community_detection(emb, threshold=0.9, min_community_size=3)
    assert [sorted(c) for c in communities] == [list(range(6)), list(range(6, 10))]  # the pair is too small
    assert all(len(set(c)) == len(c) for c in communities)
    scores = emb @ emb.T
    assert community_detection(scores=scores, threshold=0.9, min_community_size=3) == communities
    # parity with sentence_transformers.util.community_detection is measured in benchmarks/kb.py (torch import
    # is too slow for this suite)


def test_trend_clusters_report_size_representative_and_terms(hash_encoder):
    outage = [f"checkout page error 500 when paying, attempt {i}" for i in range(6)]
    other = [
        "where is my parcel",
        "change my address please",
        "cancel subscription now",
        "refund not received",
        "invoice with vat number",
        "app crashes on start",
    ]
    trends = trend_clusters(outage + other, threshold=0.5, min_size=4, encoder=hash_encoder)
    assert len(trends) == 1 and trends[0].size == 6
    assert set(trends[0].ticket_ids) == {str(i) for i in range(6)}
    assert trends[0].representative_id in trends[0].ticket_ids and "checkout" in trends[0].terms
