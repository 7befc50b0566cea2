"""``triage kb ...`` (knowledge base) and ``triage similar ...`` (similar tickets, duplicates, trends)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

kb_app = typer.Typer(
    help="Knowledge base: build, search, suggest replies, add and remove articles.", no_args_is_help=True
)
similar_app = typer.Typer(
    help="Similar tickets: index past tickets, find similar ones, duplicates, trends.", no_args_is_help=True
)

EncoderOpt = Annotated[str, typer.Option(help="Encoder name or sentence-transformers folder.")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _run(func: Any) -> Any:
    from triage.errors import TriageError

    try:
        return func()
    except (TriageError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------------------------- kb
@kb_app.command("build")
def kb_build(
    source: Annotated[Path, typer.Argument(help="Folder of Markdown/HTML articles, or a CSV / JSONL file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to save the knowledge base to.")],
    encoder: EncoderOpt = "default",
    mode: Annotated[str, typer.Option(help="Default ranking: fused, dense or bm25.")] = "dense",
    chunk_chars: Annotated[int, typer.Option(min=50, help="Longest passage, in characters.")] = 1000,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Build a knowledge base from SOURCE and save it to OUT (atomically)."""
    from triage.encoders import get_encoder
    from triage.kb import KnowledgeBase

    def work() -> None:
        kb = KnowledgeBase.build(
            source,
            get_encoder(encoder),
            mode=mode,
            chunk_chars=chunk_chars,  # type: ignore[arg-type]
            progress=progress,
        )
        kb.save(out)
        typer.echo(
            json.dumps(
                {
                    "out": str(out),
                    "articles": len(kb),
                    "chunks": len(kb.chunks),
                    "languages": sorted({c.language for c in kb.chunks.values()}),
                    "encoder": kb.encoder_name,
                }
            )
        )

    _run(work)


@kb_app.command("search")
def kb_search(
    kb_dir: Annotated[Path, typer.Argument(help="A saved knowledge base (or an article source).")],
    text: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many articles.")] = 5,
    language: Annotated[str | None, typer.Option(help="Language of TEXT (default: detected).")] = None,
    mode: Annotated[str | None, typer.Option(help="fused, dense or bm25 (default: the KB's).")] = None,
) -> None:
    """Search a knowledge base; prints JSON with the articles, scores and matching passages."""
    from triage.kb import KnowledgeBase

    def work() -> None:
        lang = language or _detect(text)
        result = KnowledgeBase.open(kb_dir).search(text, k, language=lang, mode=mode)  # type: ignore[arg-type]
        _echo_json({"language": lang, **result.to_dict()})

    _run(work)


@kb_app.command("suggest")
def kb_suggest(
    kb_dir: Annotated[Path, typer.Argument(help="A saved knowledge base (or an article source).")],
    text: Annotated[str, typer.Argument(help="The ticket text.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many articles.")] = 3,
    language: Annotated[str | None, typer.Option(help="Customer's language (default: detected).")] = None,
    name: Annotated[str | None, typer.Option(help="Customer's name for the greeting.")] = None,
) -> None:
    """Suggested articles and a draft reply for a ticket text (JSON)."""
    from triage.kb import KnowledgeBase, ReplySuggester

    def work() -> None:
        lang = language or _detect(text)
        found = ReplySuggester(KnowledgeBase.open(kb_dir), k=k).suggest(text, language=lang, name=name)
        _echo_json({"language": lang, **found.to_dict()})

    _run(work)


@kb_app.command("add")
def kb_add(
    kb_dir: Annotated[Path, typer.Argument(help="A saved knowledge base.")],
    source: Annotated[Path, typer.Argument(help="Articles to add: a folder, CSV or JSONL.")],
    update: Annotated[bool, typer.Option(help="Replace articles whose id already exists.")] = False,
) -> None:
    """Add articles to a saved knowledge base (no rebuild) and save it.

    Concurrent writers to one knowledge base take turns (an exclusive lock from load to save): none loses
    another's articles.
    """
    from triage.kb import KnowledgeBase, load_articles

    def work() -> None:
        articles = load_articles(source)
        with KnowledgeBase.editing(kb_dir) as kb:
            chunks = kb.upsert(articles) if update else kb.add(articles)
        typer.echo(json.dumps({"added": len(articles), "chunks": chunks, "articles": len(kb)}))

    _run(work)


@kb_app.command("remove")
def kb_remove(
    kb_dir: Annotated[Path, typer.Argument(help="A saved knowledge base.")],
    ids: Annotated[list[str], typer.Argument(help="Article ids to remove.")],
) -> None:
    """Remove articles by id and save the knowledge base."""
    from triage.kb import KnowledgeBase

    def work() -> None:
        with KnowledgeBase.editing(kb_dir) as kb:
            removed = kb.remove(ids)
        typer.echo(json.dumps({"removed": removed, "articles": len(kb)}))

    _run(work)


@kb_app.command("info")
def kb_info(kb_dir: Annotated[Path, typer.Argument(help="A saved knowledge base.")]) -> None:
    """Settings and size of a saved knowledge base."""
    from triage.kb.store import read_current

    def work() -> None:
        folder, manifest = read_current(kb_dir)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        _echo_json({**config, "version": folder.name, "bytes": size, "saved_at": manifest.get("saved_at")})

    _run(work)


@kb_app.command("feedback")
def kb_feedback(log: Annotated[Path, typer.Argument(help="Feedback JSONL log.")]) -> None:
    """Summarise an agent feedback log: accepted / edited / rejected counts, acceptance rate."""
    from triage.kb import FeedbackLog

    _run(lambda: _echo_json(FeedbackLog(log).summary()))


def _detect(text: str) -> str | None:
    from triage.language import detect_language

    lang = detect_language(text).language
    return None if lang == "und" else lang


# ---------------------------------------------------------------------------------------- similar
@similar_app.command("index")
def similar_index(
    tickets: Annotated[
        Path, typer.Argument(help="JSONL or CSV of past tickets (ids required; 'resolution' kept).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to save the index to.")],
    encoder: EncoderOpt = "default",
) -> None:
    """Index past tickets for similar-ticket search and save the index."""
    from triage.encoders import get_encoder
    from triage.kb import TicketIndex

    def work() -> None:
        index = TicketIndex.build(tickets, get_encoder(encoder))
        index.save(out)
        typer.echo(json.dumps({"out": str(out), "tickets": len(index)}))

    _run(work)


@similar_app.command("find")
def similar_find(
    index_dir: Annotated[Path, typer.Argument(help="A saved ticket index (or a ticket file).")],
    text: Annotated[str, typer.Argument(help="The new ticket's text.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many tickets.")] = 5,
) -> None:
    """The past tickets most similar to TEXT (JSON)."""
    from triage.kb import TicketIndex

    def work() -> None:
        hits = TicketIndex.open(index_dir).find_similar(text, k)
        _echo_json([h.model_dump() for h in hits])

    _run(work)


@similar_app.command("duplicates")
def similar_duplicates(
    tickets: Annotated[Path, typer.Argument(help="JSONL or CSV backlog.")],
    threshold: Annotated[float | None, typer.Option(help="Score threshold (default per method).")] = None,
    method: Annotated[str, typer.Option(help="csls (default) or cosine.")] = "csls",
    groups: Annotated[bool, typer.Option(help="Print connected groups instead of pairs.")] = False,
) -> None:
    """Likely duplicate pairs (or groups) in a backlog (JSON)."""
    from triage.kb import find_duplicates, group_duplicates
    from triage.kb.similar import _read_tickets

    def work() -> None:
        pairs = find_duplicates(_read_tickets(tickets), threshold, method=method)
        _echo_json(group_duplicates(pairs) if groups else [p.to_dict() for p in pairs])

    _run(work)


@similar_app.command("trends")
def similar_trends(
    tickets: Annotated[Path, typer.Argument(help="JSONL or CSV of recent tickets.")],
    threshold: Annotated[float | None, typer.Option(help="Centred-cosine threshold (default 0.6).")] = None,
    min_size: Annotated[int, typer.Option(min=2, help="Smallest cluster reported.")] = 5,
) -> None:
    """Emerging trends: clusters of near-identical tickets with size and a representative ticket (JSON)."""
    from triage.kb import trend_clusters
    from triage.kb.similar import TREND_THRESHOLD, _read_tickets

    def work() -> None:
        trends = trend_clusters(
            _read_tickets(tickets), threshold=threshold or TREND_THRESHOLD, min_size=min_size
        )
        _echo_json([t.to_dict() for t in trends])

    _run(work)


def register(app: typer.Typer) -> None:
    """Add the ``kb`` and ``similar`` command groups to the ``triage`` CLI."""
    app.add_typer(kb_app, name="kb")
    app.add_typer(similar_app, name="similar")
