"""Mask personal data with typed, stable placeholders (``<EMAIL_1>``, ``<IBAN_1>``) and restore it on request.

>>> from triage.pii import Redactor, unmask
>>> redactor = Redactor()
>>> masked = redactor.redact("Write to anna.kovacs@example.hu or call +36 30 123 4567.")
>>> masked.text
'Write to <EMAIL_1> or call <PHONE_1>.'
>>> unmask(masked.text, masked.mapping)
'Write to anna.kovacs@example.hu or call +36 30 123 4567.'
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from triage.errors import TriageError
from triage.pii.detectors import (
    ALL_TYPES,
    PLACEHOLDER_RE,
    Entity,
    PhoneValidator,
    detect_all,
    resolve_overlaps,
)
from triage.pii.view import fold

__all__ = ["PLACEHOLDER_RE", "PiiMapping", "Redaction", "Redactor", "generate_key", "unmask"]


#: Default phone regions: the national formats recognised without a ``+`` prefix.
DEFAULT_REGIONS = ("HU", "DE", "RU", "FR", "ES", "GB", "US")


class PiiMapping(Mapping[str, str]):
    """Placeholder -> original value for one ticket; the same value always gets the same placeholder.

    It is a read-only mapping (``mapping["<EMAIL_1>"]``). ``repr`` never shows the values. Keep it in memory,
    or store it with :meth:`encrypt` (needs ``cryptography``) and read it back with :meth:`decrypt`.
    """

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()
        self._reserved: set[str] = set()
        for placeholder, value in (values or {}).items():
            m = PLACEHOLDER_RE.fullmatch(placeholder)
            if not m:
                raise ValueError(f"{placeholder!r} is not a placeholder like <EMAIL_1>")
            kind, number = m.group(1), int(m.group(2))
            self._values[placeholder] = value
            self._keys[(kind, _identity(kind, value))] = placeholder
            self._counts[kind] = max(self._counts[kind], number)

    def reserve(self, text: str) -> None:
        """Never hand out a placeholder that already appears literally in ``text`` (so unmasking a text that
        quoted "<EMAIL_1>" itself gives that quote back, not somebody's address)."""
        for m in PLACEHOLDER_RE.finditer(text):
            if m.group(0) not in self._values:
                self._reserved.add(m.group(0))

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder for ``value`` of type ``kind``, creating ``<KIND_n>`` the first time it is seen."""
        key = (kind, _identity(kind, value))
        existing = self._keys.get(key)
        if existing is not None:
            return existing
        self._counts[kind] += 1
        placeholder = f"<{kind}_{self._counts[kind]}>"
        while placeholder in self._reserved:
            self._counts[kind] += 1
            placeholder = f"<{kind}_{self._counts[kind]}>"
        self._keys[key] = placeholder
        self._values[placeholder] = value
        return placeholder

    def known(self) -> list[tuple[str, str]]:
        """``(type, value)`` of every value masked so far, for masking it in the ticket's other texts."""
        return [(placeholder[1:].rsplit("_", 1)[0], value) for placeholder, value in self._values.items()]

    def __getitem__(self, placeholder: str) -> str:
        return self._values[placeholder]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PiiMapping({len(self)} values: {sorted(self._values)})"

    def to_dict(self) -> dict[str, str]:
        """A plain ``{placeholder: value}`` dict (raw values: handle with care)."""
        return dict(self._values)

    def encrypt(self, key: str | bytes) -> str:
        """The mapping as a Fernet token (AES-128-CBC + HMAC-SHA256), encrypted with ``key``.

        ``key`` is a Fernet key (:func:`generate_key`, fastest) or any passphrase, stretched with
        PBKDF2-SHA256 (the salt is stored in the token; the derived key is cached per process).
        """
        payload = json.dumps(self._values, ensure_ascii=False).encode("utf-8")
        raw = _key_bytes(key)
        if _is_fernet_key(raw):
            return _cryptography().Fernet(raw).encrypt(payload).decode("ascii")
        salt = _process_salt()
        token = _derived_fernet(raw, salt).encrypt(payload).decode("ascii")
        return f"{_PASSPHRASE_PREFIX}{base64.urlsafe_b64encode(salt).decode('ascii')}:{token}"

    @classmethod
    def decrypt(cls, token: str | bytes, key: str | bytes) -> PiiMapping:
        """Read a mapping written by :meth:`encrypt`; a wrong key or a modified token is a clear error."""
        fernet = _cryptography()
        text = token.decode("ascii") if isinstance(token, bytes) else token
        raw = _key_bytes(key)
        try:
            if text.startswith(_PASSPHRASE_PREFIX):
                salt_b64, inner = text[len(_PASSPHRASE_PREFIX) :].split(":", 1)
                data = _derived_fernet(raw, base64.urlsafe_b64decode(salt_b64)).decrypt(inner.encode("ascii"))
            elif _is_fernet_key(raw):
                data = fernet.Fernet(raw).decrypt(text.encode("ascii"))
            else:
                raise TriageError(
                    "this token was encrypted with a Fernet key, not a passphrase: pass that key"
                )
        except (fernet.InvalidToken, ValueError) as exc:
            raise TriageError("cannot decrypt the PII mapping: wrong key, or the token was modified") from exc
        return cls(json.loads(data.decode("utf-8")))


def _identity(kind: str, value: str) -> str:
    """What makes two matches the same value: the exact spelling, so :func:`unmask` gives back every
    original character (a phone written nationally and internationally gets two placeholders; merging them
    lost one spelling on unmask, found by the 2,000-example property test)."""
    return value


def generate_key() -> str:
    """A new random Fernet key (URL-safe base64) for :meth:`PiiMapping.encrypt`."""
    return _cryptography().Fernet.generate_key().decode("ascii")


def _cryptography():
    try:
        from cryptography import fernet
    except ImportError as exc:
        raise TriageError(
            "encrypting the PII mapping needs the cryptography package: pip install 'helpdesk-triage[pii]'"
        ) from exc
    return fernet


_PASSPHRASE_PREFIX = "pbkdf2:"
_SALT: bytes | None = None


def _key_bytes(key: str | bytes) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not raw:
        raise TriageError("an empty key cannot encrypt the PII mapping: use triage.pii.generate_key()")
    return raw


def _is_fernet_key(raw: bytes) -> bool:
    try:
        return len(raw) == 44 and len(base64.urlsafe_b64decode(raw)) == 32
    except (ValueError, TypeError):
        return False


def _process_salt() -> bytes:
    global _SALT
    if _SALT is None:
        import os

        _SALT = os.urandom(16)
    return _SALT


@functools.lru_cache(maxsize=8)
def _derived_fernet(passphrase: bytes, salt: bytes):
    derived = hashlib.pbkdf2_hmac("sha256", passphrase, salt, 300_000)
    return _cryptography().Fernet(base64.urlsafe_b64encode(derived))


def unmask(text: str, mapping: Mapping[str, str]) -> str:
    """Put the original values back in place of the placeholders ``mapping`` knows; others stay as is."""
    return PLACEHOLDER_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


@dataclass
class Redaction:
    """The masked text, what was found (spans refer to the input text) and the placeholder mapping."""

    text: str
    entities: list[Entity]
    mapping: PiiMapping = field(repr=False)

    @property
    def counts(self) -> dict[str, int]:
        """How many spans of each type were masked."""
        return dict(Counter(e.type for e in self.entities if e.type))


class Redactor:
    """Find and mask personal data in ticket text, offline, with checksums and context words.

    Types: e-mail, phone (international and the national formats of ``regions``), IBAN (mod 97), payment card
    (Luhn), IP address, secrets in URLs, passwords given in the text, street addresses, person names after
    salutations/titles/closings, and national IDs (Hungarian TAJ, tax ID and bank account, German Steuer-ID,
    Russian INN and SNILS). See ``docs/privacy.md`` for what is and is not covered.

    Args:
        types: entity types to mask (default: all of :data:`ALL_TYPES`).
        regions: countries whose national phone formats are recognised.
        phone_library: use ``phonenumbers`` for phone validation (default: when installed).
        max_chars: texts longer than this raise an error instead of tying up a worker (None: no limit).

    Call it with a string for one :class:`Redaction`, or a list for a list (one shared mapping per call
    is *not* implied: pass ``mapping`` to :meth:`redact` to keep placeholders stable across texts).
    """

    def __init__(
        self,
        types: Iterable[str] | None = None,
        *,
        regions: Sequence[str] = DEFAULT_REGIONS,
        phone_library: bool | None = None,
        max_chars: int | None = 2_000_000,
    ) -> None:
        chosen = tuple(types) if types is not None else ALL_TYPES
        unknown = sorted(set(chosen) - set(ALL_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {list(ALL_TYPES)}")
        self.types = frozenset(chosen)
        self.phone = PhoneValidator(regions, use_library=phone_library)
        self.max_chars = max_chars

    def find(self, text: str, known: Iterable[tuple[str, str]] = ()) -> list[Entity]:
        """The personal-data spans of ``text``, non-overlapping, in order.

        ``known``: ``(type, value)`` pairs already masked elsewhere in the same ticket; they are masked
        wherever they occur in ``text`` as whole words. Detection runs on a folded view of the text (no
        zero-width characters, entities decoded, no-break spaces as spaces: see :mod:`triage.pii.view`);
        the spans refer to ``text`` as given.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        if self.max_chars is not None and len(text) > self.max_chars:
            raise ValueError(
                f"text of {len(text)} characters is over the redactor's max_chars={self.max_chars}; "
                "cut it first or raise max_chars"
            )
        if not text:
            return []
        known = list(known)
        view = fold(text)
        found = detect_all(view.text, self.types, self.phone, known)
        if not view.folded:
            return found
        spans = [view.span(e.start, e.end) for e in found]
        mapped = [Entity(e.type, s, t, text[s:t], e.method) for e, (s, t) in zip(found, spans, strict=True)]
        # The text as written too: the view drops what markup hides (an address in a mailto: link).
        return resolve_overlaps(mapped + detect_all(text, self.types, self.phone, known))

    def redact(self, text: str, mapping: PiiMapping | None = None) -> Redaction:
        """Mask ``text``. Pass the same ``mapping`` for every text of a ticket to keep placeholders stable."""
        mapping = PiiMapping() if mapping is None else mapping
        entities = self.find(text, mapping.known())
        mapping.reserve(text)
        parts: list[str] = []
        cursor = 0
        for ent in entities:
            parts.append(text[cursor : ent.start])
            parts.append(mapping.placeholder(ent.type or "PII", ent.text))
            cursor = ent.end
        parts.append(text[cursor:])
        return Redaction("".join(parts), entities, mapping)

    @overload
    def __call__(self, texts: str) -> Redaction: ...

    @overload
    def __call__(self, texts: Sequence[str]) -> list[Redaction]: ...

    def __call__(self, texts: str | Sequence[str]) -> Redaction | list[Redaction]:
        """Mask one text, or each text of a list (each with its own mapping)."""
        if isinstance(texts, str):
            return self.redact(texts)
        return [self.redact(t) for t in texts]
