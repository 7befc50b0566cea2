"""Knowledge base with the real encoder: multilingual retrieval, drafts, the pipeline steps, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.config import TriageConfig
from triage.kb import KnowledgeBase, ReplySuggester
from triage.pipeline import Triager

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SAMPLE_KB = REPO / "src" / "triage" / "bundled" / "samples" / "kb"


def _subset(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "kb-source"
    folder.mkdir()
    for name in names:
        for path in SAMPLE_KB.glob(f"{name}*.md"):
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory, encoder):
    folder = _subset(tmp_path_factory.mktemp("kb"), ["double-charge", "track-order", "contact-support"])
    return folder, KnowledgeBase.build(folder, encoder)


class CountingEncoder:
    """Wraps an encoder and counts encode calls per kind."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls = {"query": 0, "passage": 0}

    def encode(self, texts, *, kind="query", batch_size=32):
        self.calls[kind] += 1
        return self.inner.encode(texts, kind=kind, batch_size=batch_size)


def test_multilingual_queries_find_the_article_and_draft_in_language(small_kb):
    _, kb = small_kb
    suggester = ReplySuggester(kb, k=3, min_margin=0.0)
    hu = suggester.suggest("Kétszer vonták le a rendelés árát a kártyámról", language="hu")
    top = hu.suggestions[0]
    assert top.article_id == "double-charge" and top.language == "hu" and top.draft_language == "hu"
    assert (
        top.draft.startswith("Kedves Ügyfelünk!") and "help.example.com/articles/double-charge" in top.draft
    )
    assert not top.needs_translation
    ru = suggester.suggest("Как связаться с вашей службой поддержки по телефону или в чате?", language="ru")
    assert ru.suggestions[0].article_id == "contact-support" and ru.suggestions[0].needs_translation
    assert ru.suggestions[0].draft_language == "en"
    assert kb.search("where is my parcel, tracking has not moved", k=1).hits[0].article_id == "track-order"


def test_pipeline_kb_and_similar_steps_reuse_the_ticket_embedding(
    small_kb, encoder, sample_tickets, tmp_path, monkeypatch
):
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    folder, _ = small_kb
    past = [t for t in sample_tickets if t["id"] in {"T003", "T009", "T019", "T023", "T027"}]
    past_file = tmp_path / "past.jsonl"
    past_file.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in past), encoding="utf-8")
    counting = CountingEncoder(encoder)
    config = TriageConfig(
        steps=["normalize", "language", "encode", "kb", "similar"],
        options={"kb": {"path": str(folder), "k": 2}, "similar": {"path": str(past_file), "k": 3}},
    )
    triager = Triager(config, encoder=counting)
    assert [s.name for s in triager.steps][-2:] == ["kb", "similar"]  # builds the KB and the ticket index
    counting.calls = {"query": 0, "passage": 0}
    new = [t for t in sample_tickets if t["id"] in {"T009", "T013"}]
    results = {r.ticket_id: r for r in triager(new)}
    assert counting.calls == {"query": 1, "passage": 0}  # only the encode step: kb/similar reuse its vectors
    t009, t013 = results["T009"], results["T013"]
    assert not t009.errors and not t013.errors
    assert t009.suggestions[0].article_id == "double-charge" and t009.suggestions[0].language == "de"
    assert t013.suggestions[0].article_id == "track-order"
    assert "T009" not in [s.ticket_id for s in t009.similar]  # a ticket is not its own neighbour
    assert {s.ticket_id for s in t013.similar} <= {"T003", "T009", "T019", "T023", "T027"}
    assert t013.similar[0].ticket_id in {"T003", "T023", "T027"}  # the other delivery tickets
    assert list((tmp_path / "cache" / "kb").iterdir())  # the KB built from the folder was cached


def test_kb_step_without_a_path_is_a_clear_error(encoder):
    from triage.errors import TriageError

    with pytest.raises(TriageError, match="options.kb.path"):  # refused when the Triager is built
        _ = Triager(TriageConfig(steps=["normalize", "encode", "kb"]), encoder=encoder).steps


def test_cli_build_search_add_remove(tmp_path):
    from triage.cli import app

    source = _subset(tmp_path, ["contact-support"])
    (tmp_path / "more").mkdir()
    extra = _subset(tmp_path / "more", ["app-errors"])
    runner = CliRunner()
    out = tmp_path / "kb"
    result = runner.invoke(app, ["kb", "build", str(source), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["articles"] == 1
    result = runner.invoke(app, ["kb", "add", str(out), str(extra)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["kb", "search", str(out), "the app keeps crashing", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["hits"][0]["article_id"] == "app-errors"
    result = runner.invoke(app, ["kb", "remove", str(out), "app-errors"])
    assert json.loads(result.output) == {"removed": 1, "articles": 1}
    result = runner.invoke(app, ["kb", "add", str(out), str(source)])
    assert result.exit_code == 2 and "already in the knowledge base" in result.output
    result = runner.invoke(app, ["kb", "search", str(tmp_path / "nope"), "x"])
    assert result.exit_code == 2
