"""Pattern detectors for personal data: each finds candidate spans and validates them (checksums, formats,
context words) so look-alikes with a wrong check digit are left alone.

All patterns are anchored on fixed character classes with bounded repeats, so the cost is linear in the text
length. Detectors return :class:`Entity` candidates, including *decoys* (``type=None``): strings shaped like
an IBAN or card whose check digit is wrong. Decoys take part in overlap resolution (so no other detector masks
part of them) and are dropped from the output.

This module holds the detectors for e-mails, URLs with secrets, passwords, IBANs, IP addresses and street
addresses, and :func:`detect_all`, which runs every detector and resolves overlaps. Numbers (cards, national
IDs, phones) are in :mod:`triage.pii.numbers`, person names in :mod:`triage.pii.names`.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Sequence

from triage.pii import checksums as cs
from triage.pii.entities import (
    ADDRESS,
    ALL_TYPES,
    EMAIL,
    IBAN,
    IP,
    PASSWORD,
    PERSON,
    PLACEHOLDER_RE,
    URL_SECRET,
    Entity,
)
from triage.pii.entities import new_entity as _ent
from triage.pii.names import find_names
from triage.pii.numbers import find_numbers
from triage.pii.phones import PhoneValidator

__all__ = ["ALL_TYPES", "Entity", "PhoneValidator", "detect_all"]


# --------------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------------

# The local part may hold apostrophes ("o'neil@x.de", "d'artagnan@orange.fr"); a quote that opens the match is
# trimmed in find_emails, so "'bob@x.com'" masks bob@x.com.
_EMAIL_QUOTES = "'’"
_EMAIL_RE = re.compile(
    r"(?<![\w.+\-'’])[\w.+\-'’]{1,64}"
    r"(?:@|\s?[\[(]\s?(?:at|@)\s?[\])]\s?)"
    r"[\w\-]{1,63}(?:(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)[\w\-]{1,63}){0,5}"
    r"(?:\.|\s?[\[(]\s?dot\s?[\])]\s?)[^\W\d_]{2,24}(?![\w\-]|\.[^\W\d_])",
    re.IGNORECASE,
)


def find_emails(text: str) -> Iterable[Entity]:
    for m in _EMAIL_RE.finditer(text):
        value = m.group(0)
        trimmed = value.lstrip(_EMAIL_QUOTES)
        start = m.start() + len(value) - len(trimmed)
        if not trimmed or trimmed[0] in ".-@" or ".." in trimmed:
            continue
        yield _ent(EMAIL, trimmed, start, "pattern")


# --------------------------------------------------------------------------------------------------
# URLs with credentials or tokens
# --------------------------------------------------------------------------------------------------

_URL_RE = re.compile(r"(?:\b(?:https?|ftps?|sftp|ssh|wss?|smb)://|\bwww\.)[^\s<>\"'`]{1,2000}", re.IGNORECASE)
_USERINFO_RE = re.compile(r"^[a-z][a-z0-9+.\-]{0,15}://([^/@\s:?#]{1,128}:[^/@\s?#]{1,256})@", re.IGNORECASE)
_PARAM_RE = re.compile(r"[?&#;]([\w.\-\[\]]{1,64})=([^&#;\s]{1,1024})")
_SECRET_KEYS = re.compile(
    r"(?:^|[_\-.])(?:token|access_?token|refresh_?token|id_?token|auth|authorization|key|api_?key|apikey|secret|"
    r"client_?secret|password|passwd|pass|pwd|sig|signature|session|session_?id|sid|code|otp|reset|hash|"
    r"credential|credentials|jwt|ticket|nonce|x-amz-signature|x-amz-credential)(?:$|[_\-.])",
    re.IGNORECASE,
)
_RANDOM_SEGMENT_RE = re.compile(r"/([A-Za-z0-9_\-]{24,512})(?=[/?#]|$)")


def _looks_random(segment: str) -> bool:
    has_digit = any(c.isdigit() for c in segment)
    has_alpha = any(c.isalpha() for c in segment)
    return has_digit and has_alpha and segment.count("-") < 5


def find_url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of URLs (trailing sentence punctuation excluded)."""
    spans = []
    for m in _URL_RE.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}»”’")
        spans.append((m.start(), m.start() + len(url)))
    return spans


def find_url_secrets(text: str, url_spans: Sequence[tuple[int, int]]) -> Iterable[Entity]:
    for start, end in url_spans:
        url = text[start:end]
        userinfo = _USERINFO_RE.match(url)
        if userinfo:
            yield _ent(URL_SECRET, userinfo.group(1), start + userinfo.start(1), "url-userinfo")
        for m in _PARAM_RE.finditer(url):
            if _SECRET_KEYS.search(m.group(1)) and len(m.group(2)) >= 4:
                yield _ent(URL_SECRET, m.group(2), start + m.start(2), "url-param")
        for m in _RANDOM_SEGMENT_RE.finditer(url.split("?", 1)[0]):
            if _looks_random(m.group(1)):
                yield _ent(URL_SECRET, m.group(1), start + m.start(1), "url-token")


# --------------------------------------------------------------------------------------------------
# Passwords given in the text ("password: X", "Passwort lautet X", "jelszó: X", "пароль: X")
# --------------------------------------------------------------------------------------------------

_PASSWORD_RE = re.compile(
    r"\b(?:password|passcode|passwort|kennwort|jelszó|jelszavam|jelszava|jelszót|пароль|mot de passe|"
    r"contraseña|contrasena|clave|pwd|pin)(?:-?code)?"
    r"(?:\s{0,3}(?:is|was|ist|war|lautet|est|était|es|era|это|—|-|–|=|:)\s{0,3}"
    r"|\s{0,3}(?:is|ist|est|es)\s{0,2}:\s{0,3}|:\s{0,2}|\s(?=\S*[\d!#$%&*?@^~]))"
    r"[\"'«„“]?([^\s\"'«»„“”]{3,64})",
    re.IGNORECASE,
)


def _password_like(value: str) -> bool:
    if len(value) < 4:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    mixed = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    return has_digit or has_symbol or mixed


def find_passwords(text: str) -> Iterable[Entity]:
    for m in _PASSWORD_RE.finditer(text):
        value = m.group(1).rstrip(".,;:!?)")
        if value.startswith("<") or not _password_like(value):
            continue
        yield _ent(PASSWORD, value, m.start(1), "keyword")


# --------------------------------------------------------------------------------------------------
# IBAN (mod 97) - invalid look-alikes become decoys
# --------------------------------------------------------------------------------------------------

_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,3})?)(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def find_ibans(text: str) -> Iterable[Entity]:
    for m in _IBAN_RE.finditer(text):
        value = m.group(1)
        compact = cs.digits_of(value).upper()
        if compact[:2] not in cs.IBAN_LENGTHS:
            continue
        if cs.iban_valid(value):
            yield _ent(IBAN, value, m.start(1), "mod97")
            continue
        # A valid IBAN may be followed by more digits in the same run ("... 00 ref 12"): try the exact length.
        exact = cs.IBAN_LENGTHS[compact[:2]]
        for cut in range(len(value), 0, -1):
            if len(cs.digits_of(value[:cut])) == exact:
                head = value[:cut].rstrip(" -")
                if cs.iban_valid(head):
                    yield _ent(IBAN, head, m.start(1), "mod97")
                    break
        else:
            yield _ent(None, value, m.start(1), "iban-decoy")


# --------------------------------------------------------------------------------------------------
# IP addresses
# --------------------------------------------------------------------------------------------------

_IPV4_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?:/\d{1,2})?(?![\w]|\.\d)")
_IPV6_RE = re.compile(
    r"(?<![\w:.])((?:[0-9A-Fa-f]{1,4}|:)?:(?:[0-9A-Fa-f]{0,4}:){1,7}[0-9A-Fa-f]{0,4})(?![\w:])"
)
_VERSION_CONTEXT_RE = re.compile(
    r"(?<![^\W\d_])(?:version|ver\.?|v|build|release|firmware|verzió|версия)\s*:?\s*$", re.I
)


def find_ips(text: str) -> Iterable[Entity]:
    for m in _IPV4_RE.finditer(text):
        value = m.group(1)
        parts = value.split(".")
        if any(int(p) > 255 or (len(p) > 1 and p[0] == "0") for p in parts):
            continue
        if _VERSION_CONTEXT_RE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        yield _ent(IP, value, m.start(1), "ipv4")
    for m in _IPV6_RE.finditer(text):
        value = m.group(1)
        if value.count(":") < 2 or not any(c.isalnum() for c in value):
            continue
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        if value.count(":") < 3 and "::" not in value:
            continue
        yield _ent(IP, value, m.start(1), "ipv6")


# --------------------------------------------------------------------------------------------------
# Street addresses (only patterns that are reliable: a street word, a house number, and a postcode + city)
# --------------------------------------------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁ][\w'’\-]{1,30}"
_CITY = rf"{_CAP}(?:[ \-]{_CAP}){{0,2}}"
_ADDRESS_PATTERNS = [
    # de: Musterstraße 12a, 10115 Berlin
    rf"{_CAP}(?:[ \-]{_CAP}){{0,2}}(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee)"
    rf"\s\d{{1,4}}\s?[a-zA-Z]?(?:,\s?|\s)\d{{5}}\s{_CITY}",
    rf"(?:{_CAP}[ \-])?(?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Ring|Damm)\s{_CAP}?\s?"
    rf"\d{{1,4}}\s?[a-zA-Z]?"
    rf"(?:,\s?|\s)\d{{5}}\s{_CITY}",
    # hu: 1051 Budapest, Nádor utca 12. / Budapest, Váci út 1-3. / 6720 Szeged, Kárász u. 5.
    rf"\d{{4}}\s{_CITY},?\s(?:{_CAP}\s){{1,3}}(?:utca|út|útja|tér|körút|köz|sor|sétány|fasor|rakpart|u\.|krt\.)"
    rf"\s\d{{1,4}}(?:[-/]\d{{1,4}})?\.?(?:\s?[A-Za-z]?\.?\s?(?:\d{{1,2}}\.\s?(?:em\.|emelet)\s?\d{{1,3}}\.?)?)?",
    rf"(?:{_CAP}\s){{1,3}}(?:utca|út|tér|körút|köz|sor|u\.|krt\.)\s\d{{1,4}}(?:[-/]\d{{1,4}})?\.?,\s\d{{4}}\s{_CITY}",
    # fr: 12 rue de la Paix, 75002 Paris
    r"\d{1,4}(?:\s?(?:bis|ter))?,?\s(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route|cours)"
    rf"(?:\s[\w'’\-]{{1,30}}){{1,5}},?\s\d{{5}}\s{_CITY}",
    # es: Calle Mayor 10, 3º B, 28013 Madrid / C/ Alcalá 45, 28014 Madrid
    r"(?:Calle|C/|Avenida|Avda\.|Av\.|Paseo|Plaza|Pza\.|Camino|Carrer|Ronda)\s(?:[\w'’\-]{1,30}\s){0,4}"
    rf"(?:n[º°o]\.?\s?)?\d{{1,4}}(?:,\s?\d{{1,2}}[º°ª]?\s?[A-Za-z]?)?,?\s\d{{5}}\s{_CITY}",
    # en: 221B Baker Street, London NW1 6XE / 1600 Pennsylvania Ave NW, Washington, DC 20500
    rf"\d{{1,5}}[A-Za-z]?\s(?:{_CAP}\s){{1,3}}(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.?|"
    r"Boulevard|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|Terrace|Close|Crescent|Square|Gardens)(?:\s[NSEW]{1,2})?"
    rf"(?:,\s?(?:Apt\.?|Suite|Flat|Unit)\s?\w{{1,6}})?,\s?{_CITY},?\s"
    r"(?:[A-Z]{2}\s\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})",
    # ru: ул. Тверская, д. 7, кв. 12 (with optional index and city before)
    r"(?:\d{6},?\s)?(?:г\.\s?[А-ЯЁ][\w\-]{1,30},?\s)?(?:ул\.|улица|пр-т|проспект|пр\.|пер\.|переулок|ш\.|шоссе|"
    r"бульвар|б-р|наб\.|набережная|пл\.|площадь)\s?(?:[А-ЯЁ0-9][\w\-]{0,30}\s?){1,3},?\s(?:д\.|дом)\s?\d{1,4}"
    r"(?:\s?[а-я])?(?:/\d{1,3})?(?:,?\s(?:корп\.|к\.|стр\.)\s?\d{1,3})?(?:,?\s(?:кв\.|квартира|оф\.)\s?\d{1,4})?",
]
_ADDRESS_RE = re.compile("|".join(f"(?:{p})" for p in _ADDRESS_PATTERNS))


def find_addresses(text: str) -> Iterable[Entity]:
    for m in _ADDRESS_RE.finditer(text):
        value = m.group(0).rstrip(" ,")
        yield _ent(ADDRESS, value, m.start(), "pattern")


# --------------------------------------------------------------------------------------------------
# All together
# --------------------------------------------------------------------------------------------------


def _inside(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """True if [start, end) lies inside one of ``spans`` (sorted, non-overlapping)."""
    i = bisect.bisect_right(spans, (start, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= start and end <= spans[i][1]


def resolve_overlaps(candidates: Iterable[Entity]) -> list[Entity]:
    """Non-overlapping entities: higher priority first, then longer spans; decoys block but are dropped.

    O(n log n): the spans taken so far are kept sorted, so only the two neighbours of a candidate are checked.
    """
    chosen: list[Entity] = []
    starts: list[int] = []
    ends: list[int] = []
    for ent in sorted(candidates, key=lambda e: (-e.priority, -(e.end - e.start), e.start)):
        if ent.end <= ent.start:
            continue
        i = bisect.bisect_right(starts, ent.start)
        if (i > 0 and ends[i - 1] > ent.start) or (i < len(starts) and starts[i] < ent.end):
            continue
        starts.insert(i, ent.start)
        ends.insert(i, ent.end)
        chosen.append(ent)
    return sorted((e for e in chosen if e.type is not None), key=lambda e: e.start)


#: At most this many known values (from a mapping shared across a ticket's texts) are searched for.
MAX_KNOWN_VALUES = 500


def find_known(text: str, known: Iterable[tuple[str, str]]) -> Iterable[Entity]:
    """Literal occurrences of values already masked elsewhere in the ticket (``(type, value)`` pairs), as
    whole words: a name found after a closing in the body is masked in the subject too."""
    by_value: dict[str, str] = {}
    for kind, value in known:
        if len(value) >= 2 and value.strip():
            by_value.setdefault(value, kind)
        if len(by_value) >= MAX_KNOWN_VALUES:
            break
    if not by_value:
        return
    alternatives = []
    for value in sorted(by_value, key=len, reverse=True):
        head = r"(?<!\w)" if _WORDISH.match(value[0]) else ""
        tail = r"(?!\w)" if _WORDISH.match(value[-1]) else ""
        alternatives.append(f"{head}{re.escape(value)}{tail}")
    for m in re.finditer("|".join(alternatives), text):
        yield Entity(by_value[m.group(0)], m.start(), m.end(), m.group(0), "known")


_WORDISH = re.compile(r"\w")


def detect_all(
    text: str, types: frozenset[str], phone: PhoneValidator, known: Iterable[tuple[str, str]] = ()
) -> list[Entity]:
    """Every entity of ``types`` in ``text``, non-overlapping, in text order; ``known``: ``(type, value)``
    pairs masked elsewhere in the same ticket, masked wherever they occur here too."""
    # Placeholders already in the text (a masked ticket masked again) are never masked, nor cut into.
    candidates: list[Entity] = [
        Entity(None, m.start(), m.end(), m.group(0), "placeholder") for m in PLACEHOLDER_RE.finditer(text)
    ]
    candidates += (e for e in find_known(text, known) if e.type in types)
    urls = find_url_spans(text)
    if URL_SECRET in types:
        candidates += find_url_secrets(text, urls)
    if EMAIL in types:
        candidates += find_emails(text)
    candidates += find_ibans(text)  # decoys block numbers inside IBAN look-alikes even when IBAN is off
    if IP in types:
        candidates += find_ips(text)
    candidates += (e for e in find_numbers(text, phone, types) if not _inside(urls, e.start, e.end))
    if PASSWORD in types:
        candidates += (e for e in find_passwords(text) if not _inside(urls, e.start, e.end))
    if ADDRESS in types:
        candidates += find_addresses(text)
    if PERSON in types:
        candidates += (e for e in find_names(text) if not _inside(urls, e.start, e.end))
    return [e for e in resolve_overlaps(candidates) if e.type in types]
