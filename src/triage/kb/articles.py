"""Knowledge-base articles and the importers that read them: a folder of Markdown/HTML files, CSV, JSONL."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from triage.errors import InputError

__all__ = ["Article", "ArticleVariant", "load_articles", "read_csv", "read_folder", "read_jsonl"]


class ArticleVariant(BaseModel):
    """The same article in another language."""

    title: str = ""
    body: str = ""
    url: str | None = None

    @model_validator(mode="after")
    def _has_text(self) -> ArticleVariant:
        if not (self.title.strip() or self.body.strip()):
            raise ValueError("a language variant needs a title or a body")
        return self


class Article(BaseModel):
    """A help article: ``id``, ``title``, ``body``, ``url``, ``language``, ``tags`` and optional translations.

    ``variants`` maps a language code (``"de"``) to the same article in that language; search finds an article
    through any of its variants, and replies are drafted in the customer's language when a variant exists.
    """

    id: str
    title: str = ""
    body: str = ""
    url: str | None = None
    language: str = "en"
    tags: list[str] = Field(default_factory=list)
    variants: dict[str, ArticleVariant] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError("article id must be a non-empty string")
        return value.strip()

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [t.strip() for t in re.split(r"[,;|]", value.strip("[] ")) if t.strip()]
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Any:
        return (value or "en").strip().lower() if isinstance(value, str | None) else value

    @model_validator(mode="after")
    def _has_text(self) -> Article:
        if not (self.title.strip() or self.body.strip()):
            raise ValueError(f"article {self.id!r} has no text: give a title or a body")
        self.variants = {
            k.strip().lower(): v for k, v in self.variants.items() if k.strip().lower() != self.language
        }
        return self

    def languages(self) -> list[str]:
        """The article's own language first, then its variants'."""
        return [self.language, *sorted(self.variants)]

    def in_language(self, language: str) -> ArticleVariant | None:
        """Title/body/url in ``language`` (the article itself for its own language), or None."""
        if language == self.language:
            return ArticleVariant(title=self.title, body=self.body, url=self.url)
        variant = self.variants.get(language)
        if variant is not None and variant.url is None:
            return variant.model_copy(update={"url": self.url})
        return variant


def _validate(data: dict[str, Any], where: str) -> Article:
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'article'}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(f"{where}: invalid article: {details}") from None


# ---------------------------------------------------------------------------------------------- files
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)
_LANG_SUFFIX = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2}(?:-[A-Za-z]{2,4})?)$")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Simple ``key: value`` front matter (no nesting) and the rest of the text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def _markdown_article(text: str) -> tuple[dict[str, str], str, str]:
    meta, rest = _front_matter(text)
    title = meta.get("title", "")
    if not title:
        heading = _HEADING.search(rest)
        if heading and not rest[: heading.start()].strip():
            title = heading.group(1)
            rest = rest[heading.end() :]
    return meta, title.strip(), rest.strip()


def _html_article(text: str) -> tuple[dict[str, str], str, str]:
    from triage.normalize import html_to_text

    title_match = re.search(r"<title[^>]*>(.*?)</title>", text, re.S | re.I) or re.search(
        r"<h1[^>]*>(.*?)</h1>", text, re.S | re.I
    )
    title = html_to_text(title_match.group(1)).strip() if title_match else ""
    body_html = re.sub(r"<(head|script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    if title_match and title_match.re.pattern.startswith("<h1"):
        body_html = body_html.replace(title_match.group(0), " ", 1)
    lang = re.search(r"<html[^>]*\blang=[\"']?([A-Za-z-]+)", text, re.I)
    meta = {"language": lang.group(1).split("-")[0].lower()} if lang else {}
    return meta, title, html_to_text(body_html).strip()


def read_folder(folder: str | Path) -> list[Article]:
    """Articles from a folder of ``.md`` / ``.markdown`` / ``.html`` / ``.htm`` / ``.txt`` files (recursive).

    One file is one article; its id is the file name without suffix unless front matter sets ``id:``.
    The title is front matter ``title:``, else the first ``# heading`` (``<title>``/``<h1>`` in HTML).
    A file named ``NAME.LANG.md`` (``refund-policy.de.md``), or one whose front matter says
    ``variant_of: ID``, is the ``LANG`` variant of article ``NAME``/``ID``.
    Other front-matter keys: ``url``, ``language``, ``tags``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"knowledge-base source {folder} is not a folder")
    mains: dict[str, dict[str, Any]] = {}
    variants: list[tuple[str, str, dict[str, Any], Path]] = []
    for path in sorted(folder.rglob("*")):
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in {".md", ".markdown", ".html", ".htm", ".txt"}:
            continue
        if path.name.lower() in {"readme.md", "readme.txt"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        meta, title, body = _html_article(text) if suffix in {".html", ".htm"} else _markdown_article(text)
        stem = path.stem
        lang_match = _LANG_SUFFIX.match(stem)
        parent = meta.get("variant_of")
        if lang_match and not parent:
            meta.setdefault("language", lang_match.group("lang").split("-")[0].lower())
            parent = lang_match.group("stem")
        record = {"title": title, "body": body, "url": meta.get("url") or None}
        if parent:
            lang = meta.get("language")
            if not lang:
                raise InputError(
                    f"{path}: a language variant needs 'language:' front matter or a NAME.LANG.md name"
                )
            variants.append((parent, lang.lower(), record, path))
            continue
        article_id = meta.get("id") or stem
        if article_id in mains:
            raise InputError(
                f"{path}: duplicate article id {article_id!r} (also {mains[article_id]['_path']})"
            )
        mains[article_id] = {
            **record,
            "id": article_id,
            "language": meta.get("language") or "en",
            "tags": meta.get("tags"),
            "variants": {},
            "_path": path,
        }
    for parent, lang, record, path in variants:
        if parent not in mains:
            raise InputError(f"{path}: variant of {parent!r}, but no article with that id is in {folder}")
        if lang in mains[parent]["variants"]:
            raise InputError(f"{path}: a second {lang!r} variant of article {parent!r}")
        mains[parent]["variants"][lang] = record
    articles = []
    for data in mains.values():
        path = data.pop("_path")
        articles.append(_validate(data, str(path)))
    return articles


def _group_rows(rows: Iterable[tuple[str, dict[str, Any]]], default_language: str) -> list[Article]:
    """Rows sharing an id are one article in several languages: the first row is the main one."""
    grouped: dict[str, dict[str, Any]] = {}
    for where, row in rows:
        row = {k: v for k, v in row.items() if v not in (None, "")}
        if "variants" in row and isinstance(row["variants"], dict):
            data = {**row}
        else:
            data = {
                "id": row.get("id", row.get("article_id")),
                "title": row.get("title", row.get("question", "")),
                "body": row.get("body", row.get("text", row.get("answer", row.get("content", "")))),
                "url": row.get("url"),
                "language": row.get("language", row.get("lang", default_language)),
                "tags": row.get("tags"),
            }
        if data.get("id") in (None, ""):
            raise InputError(f"{where}: article has no id (add an 'id' column or field)")
        key = str(data["id"]).strip()
        if key not in grouped:
            grouped[key] = {**data, "_where": where}
            continue
        main = grouped[key]
        lang = str(data.get("language") or default_language).lower()
        if lang == str(main.get("language", default_language)).lower() or lang in main.setdefault(
            "variants", {}
        ):
            raise InputError(
                f"{where}: duplicate article id {key!r} in language {lang!r} (first seen at {main['_where']})"
            )
        main["variants"][lang] = {
            "title": data.get("title", ""),
            "body": data.get("body", ""),
            "url": data.get("url"),
        }
    out = []
    for data in grouped.values():
        where = data.pop("_where")
        out.append(_validate(data, where))
    return out


def read_csv(path: str | Path, *, default_language: str = "en") -> list[Article]:
    """Articles from CSV with columns ``id, title, body[, url, language, tags]``.

    ``question``/``answer`` are accepted for ``title``/``body``.

    Rows with the same id and different ``language`` are variants of one article.
    """
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [
            (f"{path}:{n}", {(k or "").strip().lower(): v for k, v in row.items()})
            for n, row in enumerate(reader, start=2)
        ]
    return _group_rows(rows, default_language)


def read_jsonl(path: str | Path, *, default_language: str = "en") -> list[Article]:
    """Articles from JSONL: one :class:`Article` object per line, or flat rows as in :func:`read_csv`."""
    path = Path(path)

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
                if not isinstance(data, dict):
                    raise InputError(f"{path}:{n}: expected a JSON object per line")
                yield f"{path}:{n}", data

    return _group_rows(rows(), default_language)


def load_articles(source: str | Path) -> list[Article]:
    """Articles from a folder (Markdown/HTML), a ``.csv`` or a ``.jsonl``/``.json`` file."""
    source = Path(source)
    if source.is_dir():
        return read_folder(source)
    if not source.exists():
        raise InputError(f"knowledge-base source not found: {source}")
    suffix = source.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        return read_csv(source)
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return read_jsonl(source)
    raise InputError(
        f"cannot read articles from {source}: use a folder of .md/.html files, a .csv or a .jsonl"
    )
