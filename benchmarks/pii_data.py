"""Generate the labelled PII benchmark set: ``python -m benchmarks.pii_data`` writes
``benchmarks/data/pii_snippets.jsonl`` (deterministic, seed 13).

Hand-written ticket snippets in en, de, hu, ru, fr, es with slots filled by generated values: phone numbers
from real numbering plans in national and international formats, IBANs / cards / national IDs with correct
check digits, and *decoys*: the same shapes with one digit changed so the checksum fails (to be left alone).
Every snippet also carries distractors that are not personal data (order numbers, dates, amounts, versions,
plain URLs). Some snippets hold personal data the redactor is not designed to catch (names outside salutations
and signatures, "name at domain dot com"), labelled all the same, so recall is measured honestly.

Each line: ``{"id", "language", "text", "entities": [{"start","end","type","text"}], "decoys": [...]}``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from triage.pii import checksums as cs

OUT = Path(__file__).resolve().parent / "data" / "pii_snippets.jsonl"
SEED = 13
COPIES = 3  # each template is filled this many times with different values

Span = tuple[int, int, str]  # relative start, end, type ("decoy:TYPE" for look-alikes)
Value = tuple[str, list[Span]]


def _whole(text: str, kind: str) -> Value:
    return text, [(0, len(text), kind)]


def _digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _group(s: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(s[i : i + size])
        i += size
    if i < len(s):
        out.append(s[i:])
    return sep.join(p for p in out if p)


def _flip(rng: random.Random, digits: str, index: int | None = None) -> str:
    """Change one digit (at ``index``, default random) to another value."""
    i = rng.randrange(len(digits)) if index is None else index % len(digits)
    while True:
        d = rng.choice("0123456789")
        if d != digits[i]:
            return digits[:i] + d + digits[i + 1 :]


# --- phones (real numbering plans) --------------------------------------------------------------------------


def phone(rng: random.Random, country: str) -> str:
    if country == "hu":
        kind = rng.random()
        if kind < 0.6:
            area, sub = rng.choice(["20", "30", "31", "50", "70"]), _digits(rng, 7, "23456789")
            return rng.choice(
                [
                    f"+36 {area} {sub[:3]} {sub[3:]}",
                    f"06 {area} {sub[:3]} {sub[3:]}",
                    f"06-{area}/{sub[:3]}-{sub[3:]}",
                    f"+36{area}{sub}",
                    f"06{area}{sub}",
                    f"+36-{area}-{sub[:3]}-{sub[3:]}",
                    f"(06 {area}) {sub[:3]} {sub[3:]}",
                ]
            )
        if kind < 0.8:
            sub = _digits(rng, 7, "2345789")
            return rng.choice(
                [f"06 1 {sub[:3]} {sub[3:]}", f"+36 1 {sub[:3]} {sub[3:]}", f"(06-1) {sub[:3]}-{sub[3:]}"]
            )
        area, sub = (
            rng.choice(["22", "24", "26", "28", "52", "62", "72", "96", "46"]),
            _digits(rng, 6, "23456789"),
        )
        return rng.choice(
            [f"06 {area} {sub[:3]} {sub[3:]}", f"+36 {area} {sub}", f"06-{area}-{sub[:3]}-{sub[3:]}"]
        )
    if country == "de":
        if rng.random() < 0.5:
            pre = rng.choice(
                [
                    "151",
                    "152",
                    "157",
                    "160",
                    "162",
                    "170",
                    "171",
                    "172",
                    "173",
                    "175",
                    "176",
                    "177",
                    "178",
                    "179",
                ]
            )
            sub = _digits(rng, 7 if pre.startswith("17") or pre == "160" else 8, "123456789")
            return rng.choice(
                [
                    f"0{pre} {sub}",
                    f"0{pre}/{sub}",
                    f"+49 {pre} {sub}",
                    f"+49 (0){pre} {sub}",
                    f"0{pre}-{sub}",
                    f"0049 {pre} {sub}",
                    f"+49{pre}{sub}",
                ]
            )
        area = rng.choice(["30", "89", "40", "69", "221", "211", "711", "341"])
        sub = _digits(rng, 8 if len(area) == 2 else 7, "23456789")
        return rng.choice(
            [
                f"0{area} {sub}",
                f"0{area}/{sub}",
                f"+49 {area} {sub}",
                f"+49 (0){area} {sub}",
                f"0{area}-{sub[:4]}-{sub[4:]}",
                f"(0{area}) {sub}",
            ]
        )
    if country == "ru":
        code = rng.choice(["495", "499", "812"]) if rng.random() < 0.35 else "9" + _digits(rng, 2)
        sub = _digits(rng, 7, "123456789")
        s3, s2a, s2b = sub[:3], sub[3:5], sub[5:]
        return rng.choice(
            [
                f"+7 {code} {s3}-{s2a}-{s2b}",
                f"8 ({code}) {s3}-{s2a}-{s2b}",
                f"+7 ({code}) {s3}-{s2a}-{s2b}",
                f"8{code}{sub}",
                f"+7{code}{sub}",
                f"8-{code}-{s3}-{s2a}-{s2b}",
                f"8 {code} {s3} {s2a} {s2b}",
            ]
        )
    if country == "fr":
        first = rng.choice("1234567")
        body = first + _digits(rng, 8)
        pairs = [body[1:3], body[3:5], body[5:7], body[7:9]]
        return rng.choice(
            [
                f"0{first} " + " ".join(pairs),
                f"0{first}." + ".".join(pairs),
                f"+33 {first} " + " ".join(pairs),
                f"+33 (0){first} " + " ".join(pairs),
                f"0{body}",
                f"0{first}-" + "-".join(pairs),
            ]
        )
    if country == "es":
        if rng.random() < 0.6:
            sub = rng.choice("67") + _digits(rng, 8)
            if sub[0] == "7":
                sub = "7" + rng.choice("1234") + sub[2:]
            return rng.choice(
                [
                    f"{sub[:3]} {sub[3:6]} {sub[6:]}",
                    f"+34 {sub[:3]} {sub[3:6]} {sub[6:]}",
                    sub,
                    f"+34{sub}",
                    f"{sub[:3]} {sub[3:5]} {sub[5:7]} {sub[7:]}",
                    f"0034 {sub[:3]} {sub[3:6]} {sub[6:]}",
                ]
            )
        area = rng.choice(["91", "93", "95", "96", "94"])
        sub = _digits(rng, 7, "2345678")
        return rng.choice(
            [
                f"{area} {sub[:3]} {sub[3:5]} {sub[5:]}",
                f"+34 {area} {sub[:3]} {sub[3:5]} {sub[5:]}",
                f"{area}{sub}",
                f"{area}-{sub[:3]}-{sub[3:]}",
            ]
        )
    # en: GB or US
    if rng.random() < 0.5:
        if rng.random() < 0.6:
            sub = rng.choice(["74", "75", "77", "78", "79"]) + _digits(rng, 8)
            return rng.choice(
                [f"07{sub[1:4]} {sub[4:]}", f"+44 7{sub[1:4]} {sub[4:]}", f"07{sub[1:]}", f"+447{sub[1:]}"]
            )
        sub = rng.choice("37") + _digits(rng, 7, "123456789")
        return rng.choice(
            [f"020 {sub[:4]} {sub[4:]}", f"+44 20 {sub[:4]} {sub[4:]}", f"(020) {sub[:4]} {sub[4:]}"]
        )
    area = rng.choice(["212", "312", "415", "617", "202", "305", "206", "512", "713", "404"])
    exch = rng.choice("23456789") + _digits(rng, 2)
    while exch[1:] == "55" or exch.endswith("11"):
        exch = rng.choice("23456789") + _digits(rng, 2)
    line = _digits(rng, 4)
    return rng.choice(
        [
            f"({area}) {exch}-{line}",
            f"{area}-{exch}-{line}",
            f"+1 {area} {exch} {line}",
            f"{area}.{exch}.{line}",
            f"+1 ({area}) {exch}-{line}",
            f"1-{area}-{exch}-{line}",
        ]
    )


# --- bank, card and ID numbers ------------------------------------------------------------------------------

_BBAN = {
    "DE": lambda r: _digits(r, 18),
    "HU": lambda r: _digits(r, 24),
    "FR": lambda r: _digits(r, 23),
    "ES": lambda r: _digits(r, 20),
    "AT": lambda r: _digits(r, 16),
    "RU": lambda r: "04" + _digits(r, 27),
    "GB": lambda r: "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + _digits(r, 14),
    "NL": lambda r: "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + _digits(r, 10),
    "IT": lambda r: r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + _digits(r, 22),
}
_IBAN_COUNTRIES = {
    "de": ["DE", "DE", "AT"],
    "hu": ["HU", "HU", "DE"],
    "fr": ["FR", "FR", "IT"],
    "es": ["ES", "ES"],
    "ru": ["RU", "DE"],
    "en": ["GB", "GB", "NL", "DE"],
}


def iban(rng: random.Random, lang: str, valid: bool = True) -> str:
    country = rng.choice(_IBAN_COUNTRIES[lang])
    bban = _BBAN[country](rng)
    value = country + cs.iban_check_digits(country, bban) + bban
    if not valid:
        digit_positions = [i for i in range(4, len(value)) if value[i].isdigit()]
        i = rng.choice(digit_positions)
        value = value[:i] + _flip(rng, value[i]) + value[i + 1 :]
        assert not cs.iban_valid(value)
    return _group(value, [4] * 9, " ") if rng.random() < 0.75 else value


def card(rng: random.Random, valid: bool = True) -> str:
    brand = rng.choice(["visa", "visa", "mc", "mc", "amex", "discover", "mir"])
    prefix, length = {
        "visa": ("4", 16),
        "mc": (str(rng.randint(51, 55)), 16),
        "amex": (rng.choice(["34", "37"]), 15),
        "discover": ("6011", 16),
        "mir": (f"220{rng.randint(0, 4)}", 16),
    }[brand]
    body = prefix + _digits(rng, length - len(prefix) - 1)
    value = body + cs.luhn_check_digit(body)
    if not valid:
        value = value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    if length == 15:
        return rng.choice([_group(value, [4, 6, 5], " "), value])
    return rng.choice([_group(value, [4, 4, 4, 4], " "), _group(value, [4, 4, 4, 4], "-"), value])


def taj(rng: random.Random, valid: bool = True) -> str:
    body = _digits(rng, 8, "123456789")
    check = cs.taj_check_digit(body)
    value = body + (check if valid else str((int(check) + rng.randint(1, 9)) % 10))
    return rng.choice([_group(value, [3, 3, 3], " "), _group(value, [3, 3, 3], "-"), value])


def hu_tax(rng: random.Random, valid: bool = True) -> str:
    while True:
        body = "8" + _digits(rng, 8)
        check = cs.hu_tax_id_check_digit(body)
        if check is not None:
            break
    return body + (check if valid else str((int(check) + rng.randint(1, 9)) % 10))


def hu_account(rng: random.Random, valid: bool = True) -> str:
    first = _digits(rng, 7, "1")
    first += cs.hu_block_check_digit(first)
    rest_len = rng.choice([8, 16])
    rest = _digits(rng, rest_len - 1)
    weights = (9, 7, 3, 1) * 4
    total = sum(int(d) * w for d, w in zip(rest, weights, strict=False))
    rest += str((10 - total % 10) % 10)
    value = first + rest
    if not valid:
        value = value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    assert cs.hu_bank_account_valid(value) == valid
    return _group(value, [8, 8, 8], "-")


def de_tax(rng: random.Random, valid: bool = True) -> str:
    while True:
        digits = rng.sample("0123456789", 9)
        digits.append(rng.choice(digits))
        rng.shuffle(digits)
        body = "".join(digits)
        if body[0] != "0":
            break
    value = body + cs.de_tax_id_check_digit(body)
    if not valid:
        value = value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    assert cs.de_tax_id_valid(value) == valid
    return rng.choice([_group(value, [2, 3, 3, 3], " "), value, value])


def inn(rng: random.Random, valid: bool = True) -> str:
    body = _digits(rng, rng.choice([9, 10]), "1234567")
    value = body + cs.ru_inn_check_digits(body)
    if not valid:
        value = value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    assert cs.ru_inn_valid(value) == valid
    return value


def snils(rng: random.Random, valid: bool = True) -> str:
    body = _digits(rng, 9, "123456789")
    check = cs.ru_snils_check_digits(body)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 98)) % 100:02d}"
    value = body + check
    assert cs.ru_snils_valid(value) == valid
    return f"{body[:3]}-{body[3:6]}-{body[6:9]} {check}" if rng.random() < 0.8 else value


# --- names, e-mails, addresses, URLs, passwords -------------------------------------------------------------

NAMES = {
    "en": (
        ["James", "Emily", "Oliver", "Sarah", "Michael", "Olivia", "Daniel", "Grace", "Thomas", "Hannah"],
        ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker", "O'Brien", "Clarke"],
    ),
    "de": (
        ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie", "Maximilian", "Marie", "Paul", "Katrin"],
        [
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Becker",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Wagner",
        ],
    ),
    "hu": (
        ["János", "Anna", "Péter", "Eszter", "László", "Zsófia", "Gábor", "Katalin", "Bence", "Réka"],
        ["Kovács", "Nagy", "Tóth", "Szabó", "Horváth", "Varga", "Kiss", "Molnár", "Németh", "Farkas"],
    ),
    "ru": (
        ["Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Анна", "Сергей", "Елена", "Никита", "Татьяна"],
        [
            "Иванов",
            "Смирнова",
            "Кузнецов",
            "Попова",
            "Соколов",
            "Лебедева",
            "Козлов",
            "Новикова",
            "Морозов",
            "Волкова",
        ],
    ),
    "fr": (
        ["Julien", "Camille", "Nicolas", "Manon", "Antoine", "Chloé", "Mathieu", "Léa", "Hugo", "Élodie"],
        [
            "Martin",
            "Bernard",
            "Dubois",
            "Durand",
            "Lefèvre",
            "Moreau",
            "Laurent",
            "Girard",
            "Fournier",
            "Mercier",
        ],
    ),
    "es": (
        ["Javier", "Lucía", "Carlos", "María", "Alejandro", "Carmen", "Pablo", "Laura", "Diego", "Elena"],
        ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz", "Moreno"],
    ),
}
_TRANSLIT = str.maketrans(
    {
        "á": "a",
        "é": "e",
        "í": "i",
        "ó": "o",
        "ö": "o",
        "ő": "o",
        "ú": "u",
        "ü": "u",
        "ű": "u",
        "ä": "ae",
        "ß": "ss",
        "è": "e",
        "ê": "e",
        "ç": "c",
        "ñ": "n",
        "'": "",
        "ë": "e",
    }
)
_RU = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщыэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "sch",
            "y",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)
DOMAINS = {
    "en": ["gmail.com", "outlook.com", "acme-corp.co.uk", "example.com"],
    "de": ["gmx.de", "web.de", "firma.de", "t-online.de"],
    "hu": ["freemail.hu", "gmail.com", "citromail.hu", "ceg.hu"],
    "ru": ["mail.ru", "yandex.ru", "company.ru", "inbox.ru"],
    "fr": ["orange.fr", "free.fr", "laposte.net", "societe.fr"],
    "es": ["gmail.com", "telefonica.net", "empresa.es", "hotmail.es"],
}


def person(rng: random.Random, lang: str, full: bool = True) -> str:
    first, last = rng.choice(NAMES[lang][0]), rng.choice(NAMES[lang][1])
    if not full:
        return first
    return f"{last} {first}" if lang == "hu" else f"{first} {last}"


def _ascii(name: str) -> str:
    low = name.lower()
    if any("а" <= c <= "я" for c in low):
        low = "".join(_RU.get(c, c) for c in low)
    return low.translate(_TRANSLIT)


def email(rng: random.Random, lang: str) -> str:
    first, last = rng.choice(NAMES[lang][0]), rng.choice(NAMES[lang][1])
    local = rng.choice(
        [
            f"{_ascii(first)}.{_ascii(last)}",
            f"{_ascii(first)[0]}{_ascii(last)}",
            f"{_ascii(last)}{rng.randint(1, 99)}",
            f"{_ascii(first)}_{_ascii(last)}",
        ]
    )
    return f"{local}@{rng.choice(DOMAINS[lang])}"


STREETS = {
    "de": [
        "Hauptstraße",
        "Bahnhofstraße",
        "Goethestraße",
        "Lindenweg",
        "Marktplatz",
        "Schillerstraße",
        "Berliner Allee",
        "Am Mühlbach",
    ],
    "hu": [
        "Kossuth Lajos utca",
        "Petőfi Sándor utca",
        "Váci út",
        "Andrássy út",
        "Rákóczi út",
        "Fő utca",
        "Dózsa György út",
    ],
    "fr": [
        "rue de la Paix",
        "avenue Victor Hugo",
        "boulevard Saint-Michel",
        "rue des Lilas",
        "place Bellecour",
        "chemin des Vignes",
    ],
    "es": [
        "Calle Mayor",
        "Calle de Alcalá",
        "Avenida de la Constitución",
        "Paseo de Gracia",
        "Calle Real",
        "Plaza Mayor",
    ],
    "ru": ["ул. Тверская", "ул. Ленина", "пр-т Мира", "ул. Садовая", "Невский проспект"],
    "en": ["Baker Street", "High Street", "Oak Avenue", "Maple Drive", "Church Road", "Park Lane"],
}
CITIES = {
    "de": [
        ("10115", "Berlin"),
        ("80331", "München"),
        ("50667", "Köln"),
        ("20095", "Hamburg"),
        ("04109", "Leipzig"),
    ],
    "hu": [
        ("1051", "Budapest"),
        ("6720", "Szeged"),
        ("4024", "Debrecen"),
        ("7621", "Pécs"),
        ("9021", "Győr"),
    ],
    "fr": [
        ("75002", "Paris"),
        ("69002", "Lyon"),
        ("13001", "Marseille"),
        ("31000", "Toulouse"),
        ("33000", "Bordeaux"),
    ],
    "es": [("28013", "Madrid"), ("08007", "Barcelona"), ("41001", "Sevilla"), ("46002", "Valencia")],
    "ru": [("125009", "Москва"), ("190000", "Санкт-Петербург"), ("620014", "Екатеринбург")],
    "en": [("NW1 6XE", "London"), ("M1 1AE", "Manchester"), ("EH1 1YZ", "Edinburgh")],
}


def address(rng: random.Random, lang: str) -> str:
    street, number = rng.choice(STREETS[lang]), rng.randint(1, 140)
    postcode, city = rng.choice(CITIES[lang])
    if lang == "de":
        return f"{street} {number}, {postcode} {city}"
    if lang == "hu":
        return rng.choice(
            [f"{postcode} {city}, {street} {number}.", f"{street} {number}., {postcode} {city}"]
        )
    if lang == "fr":
        return f"{number} {street}, {postcode} {city}"
    if lang == "es":
        return rng.choice(
            [
                f"{street} {number}, {postcode} {city}",
                f"{street} {number}, {rng.randint(1, 9)}º B, {postcode} {city}",
            ]
        )
    if lang == "ru":
        flat = rng.randint(1, 300)
        return rng.choice(
            [
                f"{postcode}, г. {city}, {street}, д. {number}, кв. {flat}",
                f"г. {city}, {street}, д. {number}, кв. {flat}",
            ]
        )
    if rng.random() < 0.5:
        return f"{number} {street}, {city} {postcode}"
    state, zip_code = rng.choice([("NY", "10001"), ("CA", "94103"), ("IL", "60601"), ("TX", "73301")])
    town = {"NY": "New York", "CA": "San Francisco", "IL": "Chicago", "TX": "Austin"}[state]
    us_street = rng.choice(["Main Street", "Oak Avenue", "Sunset Blvd", "Elm Street"])
    return f"{number} {us_street}, {town}, {state} {zip_code}"


def _token(rng: random.Random, n: int) -> str:
    return "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n)
    )


def secret_url(rng: random.Random) -> Value:
    kind = rng.randrange(4)
    if kind == 0:
        secret = _token(rng, rng.randint(16, 40))
        head = "https://portal.example.com/reset-password?token="
        return head + secret + "&lang=en", [(len(head), len(head) + len(secret), "URL_SECRET")]
    if kind == 1:
        secret = f"{rng.choice(['bob', 'admin', 'j.doe', 'ftpuser'])}:{_token(rng, 10)}"
        head = rng.choice(["ftp://", "https://", "sftp://"])
        return head + secret + "@files.example.org/upload", [
            (len(head), len(head) + len(secret), "URL_SECRET")
        ]
    if kind == 2:
        secret = _token(rng, 32)
        head = "https://app.example.net/invite/"
        return head + secret, [(len(head), len(head) + len(secret), "URL_SECRET")]
    secret = _token(rng, 24)
    head = "https://api.example.io/v2/export?format=csv&api_key="
    return head + secret, [(len(head), len(head) + len(secret), "URL_SECRET")]


def password(rng: random.Random) -> str:
    word = rng.choice(
        ["Sommer", "Tavasz", "Winter", "Soleil", "Verano", "Moskva", "Dragon", "Kiskutya", "Bonjour"]
    )
    return word + str(rng.randint(10, 2025)) + rng.choice(["!", "#", "", "?", "$"])


def ipv4(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f"192.168.{rng.randint(0, 254)}.{rng.randint(1, 254)}"
    return f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(4)]
    return "2001:db8:" + rng.choice([":".join(groups[:2]) + "::" + groups[2], ":".join(groups + ["1", "2"])])


# --- distractors (not personal data) ------------------------------------------------------------------------


def order_no(rng: random.Random) -> str:
    return rng.choice(
        [
            _digits(rng, 8, "123456789"),
            _digits(rng, 10, "123456789"),
            f"A-{_digits(rng, 6)}",
            f"{_digits(rng, 3, '123456789')}-{_digits(rng, 7)}",
        ]
    )


def date(rng: random.Random, lang: str) -> str:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.choice([2023, 2024, 2025])
    return {
        "de": f"{d:02d}.{m:02d}.{y}",
        "hu": f"{y}.{m:02d}.{d:02d}.",
        "ru": f"{d:02d}.{m:02d}.{y}",
        "fr": f"{d:02d}/{m:02d}/{y}",
        "es": f"{d:02d}/{m:02d}/{y}",
        "en": f"{y}-{m:02d}-{d:02d}",
    }[lang]


def amount(rng: random.Random, lang: str) -> str:
    whole, cents = rng.randint(1000, 250000), rng.randint(0, 99)
    if lang == "hu":
        return f"{whole:,} Ft".replace(",", " ")
    if lang == "ru":
        return f"{whole:,} руб.".replace(",", " ")
    if lang == "en":
        return f"£{whole:,}.{cents:02d}"
    return f"{whole:,},{cents:02d} €".replace(",", "X").replace("X", ".", 1).replace("X", ",")


def version(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(0, 30)}",
            f"10.0.{rng.randint(17000, 22631)}.{rng.randint(100, 4000)}",
        ]
    )


def tracking(rng: random.Random) -> str:
    return rng.choice(
        [
            f"1Z{_token(rng, 6).upper()}{_digits(rng, 10)}",
            _digits(rng, 14, "123456789"),
            f"JJD{_digits(rng, 18)}",
        ]
    )


# --- templates ----------------------------------------------------------------------------------------------

Generator = Callable[[random.Random, str], Value]

SLOTS: dict[str, Generator] = {
    "PHONE": lambda r, lang: _whole(phone(r, lang), "PHONE"),
    "PHONE_HU": lambda r, lang: _whole(phone(r, "hu"), "PHONE"),
    "PHONE_DE": lambda r, lang: _whole(phone(r, "de"), "PHONE"),
    "EMAIL": lambda r, lang: _whole(email(r, lang), "EMAIL"),
    "IBAN": lambda r, lang: _whole(iban(r, lang), "IBAN"),
    "BAD_IBAN": lambda r, lang: _whole(iban(r, lang, valid=False), "decoy:IBAN"),
    "CARD": lambda r, lang: _whole(card(r), "CARD"),
    "BAD_CARD": lambda r, lang: _whole(card(r, valid=False), "decoy:CARD"),
    "TAJ": lambda r, lang: _whole(taj(r), "HU_TAJ"),
    "BAD_TAJ": lambda r, lang: _whole(taj(r, valid=False), "decoy:HU_TAJ"),
    "HUTAX": lambda r, lang: _whole(hu_tax(r), "HU_TAX_ID"),
    "BAD_HUTAX": lambda r, lang: _whole(hu_tax(r, valid=False), "decoy:HU_TAX_ID"),
    "HUACC": lambda r, lang: _whole(hu_account(r), "HU_BANK_ACCOUNT"),
    "BAD_HUACC": lambda r, lang: _whole(hu_account(r, valid=False), "decoy:HU_BANK_ACCOUNT"),
    "DETAX": lambda r, lang: _whole(de_tax(r), "DE_TAX_ID"),
    "BAD_DETAX": lambda r, lang: _whole(de_tax(r, valid=False), "decoy:DE_TAX_ID"),
    "INN": lambda r, lang: _whole(inn(r), "RU_INN"),
    "BAD_INN": lambda r, lang: _whole(inn(r, valid=False), "decoy:RU_INN"),
    "SNILS": lambda r, lang: _whole(snils(r), "RU_SNILS"),
    "BAD_SNILS": lambda r, lang: _whole(snils(r, valid=False), "decoy:RU_SNILS"),
    "IP": lambda r, lang: _whole(ipv4(r), "IP"),
    "IP6": lambda r, lang: _whole(ipv6(r), "IP"),
    "SECRET_URL": lambda r, lang: secret_url(r),
    "PASSWORD": lambda r, lang: _whole(password(r), "PASSWORD"),
    "ADDRESS": lambda r, lang: _whole(address(r, lang), "ADDRESS"),
    "NAME": lambda r, lang: _whole(person(r, lang), "PERSON"),
    "FIRST": lambda r, lang: _whole(person(r, lang, full=False), "PERSON"),
    "LAST": lambda r, lang: _whole(r.choice(NAMES[lang][1]), "PERSON"),
    # not personal data
    "ORDER": lambda r, lang: (order_no(r), []),
    "DATE": lambda r, lang: (date(r, lang), []),
    "AMOUNT": lambda r, lang: (amount(r, lang), []),
    "VERSION": lambda r, lang: (version(r), []),
    "TRACKING": lambda r, lang: (tracking(r), []),
    "TICKET": lambda r, lang: (f"#{r.randint(10000, 999999)}", []),
    "TIME": lambda r, lang: (f"{r.randint(7, 20)}:{r.choice(['00', '15', '30', '45'])}", []),
    "URL": lambda r, lang: (
        r.choice(
            [
                "https://example.com/help/article/4521",
                "https://status.example.org",
                "www.example.de/faq#login",
                "https://shop.example.es/pedido/123456",
            ]
        ),
        [],
    ),
}

TEMPLATES: dict[str, list[str]] = {
    "en": [
        "Hi,\nI can't log in since the update to version {VERSION}. Please call me back on {PHONE}."
        "\nThanks,\n{NAME}",
        "Dear {NAME},\nthank you for your reply. My order {ORDER} from {DATE} still hasn't arrived.",
        "Please refund the {AMOUNT} to my account {IBAN}. Kind regards, {NAME}",
        "The payment with card {CARD} was declined twice. I also tried {BAD_CARD} which your form rejected.",
        "My email changed, please use {EMAIL} from now on. The old one was {EMAIL}.",
        "Hello,\nour office IP is {IP} and the VPN gateway {IP6} blocks us since {DATE}.",
        "The reset link {SECRET_URL} says expired. Ticket {TICKET}.",
        "New address for the invoice: {ADDRESS}. Phone {PHONE}.",
        "Mr. {LAST} from accounting asked me to forward this. Tracking number {TRACKING}.",
        "I typed my password is {PASSWORD} and it still fails at {TIME}.",
        "Hi {FIRST},\nthe transfer from {BAD_IBAN} bounced. Can you check?",
        "Call me at {PHONE} or {PHONE}, whichever works. Best,\n{FIRST}",
        "Order {ORDER}, amount {AMOUNT}, shipped {DATE}. Nothing personal here, just the facts.",
        "My colleague {NAME} will send the documents today.",
        "Customer {EMAIL} reports that {URL} times out. Server {IP}.",
        "Hello, my name is {NAME} and I need to update my card {CARD}.",
        "Please send it to {ADDRESS} before {DATE}.",
        "Our export job uses {SECRET_URL} — is that key still valid? Version {VERSION}.",
        "Sincerely,\n{NAME}\n{PHONE}\n{EMAIL}",
        "Good morning {FIRST}, I'm still waiting on case {TICKET}. You can reach me on {PHONE}.",
        "Dear Customer Service,\nthe app crashes on build {VERSION} when I open invoice {ORDER}.",
        "Payment reference {ORDER}, IBAN {IBAN}, total {AMOUNT}.",
        "Write to {FIRST} at her private address, {EMAIL}, not the work one.",
        "The card number I gave, {BAD_CARD}, was mistyped; the right one is {CARD}.",
    ],
    "de": [
        "Sehr geehrte Damen und Herren,\nmeine Bestellung {ORDER} vom {DATE} ist nicht angekommen.\n"
        "Mit freundlichen Grüßen\n{NAME}",
        "Hallo {FIRST},\nbitte rufen Sie mich unter {PHONE} zurück.",
        "Bitte überweisen Sie die {AMOUNT} auf mein Konto {IBAN}.",
        "Sehr geehrter Herr {LAST},\ndie Kreditkarte {CARD} wurde belastet, obwohl ich storniert habe.",
        "Meine Steuer-ID ist {DETAX}. In der Rechnung steht fälschlich {BAD_DETAX} als Steuer-ID.",
        "Tel.-Nr.: {PHONE}, E-Mail: {EMAIL}",
        "Neue Lieferadresse: {ADDRESS}. Sendungsnummer {TRACKING}.",
        "Liebe {FIRST}, das Passwort: {PASSWORD} funktioniert nicht mehr seit Version {VERSION}.",
        "Die IBAN {BAD_IBAN} ist laut Ihrem Formular ungültig, ich habe sie aus dem Vertrag abgeschrieben.",
        "Unser Server {IP} ist seit {TIME} Uhr nicht erreichbar. Ticket {TICKET}.",
        "Guten Tag,\nder Link {SECRET_URL} zum Zurücksetzen geht nicht.\nViele Grüße\n{FIRST}",
        "Ich bin unter {PHONE} oder {PHONE} erreichbar.",
        "Rechnungsnummer {ORDER}, Betrag {AMOUNT}, fällig am {DATE}.",
        "Mein Kollege {NAME} hat das Problem auch.",
        "Bitte nicht mehr an {EMAIL} schreiben, sondern an {EMAIL}.",
        "Frau {LAST} aus der Buchhaltung bittet um Rückruf unter {PHONE}.",
        "Die Zahlung mit der Karte {BAD_CARD} ging nicht durch, mit {CARD} schon.",
        "Mein Name ist {NAME}, Kundennummer {ORDER}.",
        "Hallo zusammen,\ndas Update {VERSION} hat unser VPN ({IP6}) lahmgelegt.",
        "Beste Grüße\n{NAME}\nTel. {PHONE}",
        "Bitte senden Sie die Unterlagen an {ADDRESS}.",
        "Lastschrift von {IBAN} am {DATE} über {AMOUNT} bitte zurückbuchen.",
        "Moin {FIRST}, kurze Frage zu Vorgang {TICKET}: siehe {URL}.",
        "Die Steuer-ID {DETAX} gehört meiner Frau, bitte korrigieren.",
    ],
    "hu": [
        "Kedves {NAME}!\nA rendelésem ({ORDER}) {DATE} óta nem érkezett meg.",
        "Tisztelt Ügyfélszolgálat!\nKérem, hívjanak vissza a {PHONE} telefonszámon.\nÜdvözlettel:\n{NAME}",
        "A TAJ számom: {TAJ}, az adóazonosító jelem: {HUTAX}.",
        "Hibás TAJ-szám szerepel a rendszerben: {BAD_TAJ}. A helyes TAJ: {TAJ}.",
        "Kérem, a {AMOUNT} összeget a {HUACC} számlaszámra utalják.",
        "A bankszámlaszám {BAD_HUACC} nem jó, elírtam. IBAN: {IBAN}",
        "Telefonszámom: {PHONE}, e-mail címem: {EMAIL}",
        "Új szállítási cím: {ADDRESS}. Csomagszám: {TRACKING}.",
        "Kedves {FIRST}!\nA jelszavam: {PASSWORD}, de nem enged be a {VERSION} verzió óta.",
        "Az adóazonosító jel a számlán hibás: {BAD_HUTAX}. Kérem javítsák.",
        "A bankkártyám ({CARD}) kétszer lett megterhelve {DATE}-án.",
        "Sziasztok! A szerver IP címe {IP}, {TIME} óta nem érhető el.",
        "A visszaállító link ({SECRET_URL}) lejárt.",
        "Számlaszám: {ORDER}, végösszeg: {AMOUNT}, határidő: {DATE}",
        "{NAME} úr kérte, hogy továbbítsam ezt az ügyet.",
        "Hívjon a {PHONE} vagy a {PHONE} számon délután.",
        "Kérem, a {EMAIL} címre küldjék a számlát, ne a {EMAIL} címre.",
        "A kolléganőm, {NAME} is ugyanezt tapasztalja.",
        "Tisztelettel:\n{NAME}\n{PHONE}",
        "A kártyaszám {BAD_CARD} volt, de elírtam, a helyes: {CARD}.",
        "A nevem {NAME}, ügyfélszámom {ORDER}.",
        "Kérem, küldjék a dokumentumokat erre a címre: {ADDRESS}",
        "Szia {FIRST}! A {TICKET} számú bejelentés még nyitott, lásd {URL}.",
        "Köszönöm,\n{FIRST}",
    ],
    "ru": [
        "Здравствуйте, {FIRST}!\nМой заказ {ORDER} от {DATE} до сих пор не доставлен.",
        "Уважаемый {NAME}, прошу перезвонить мне по номеру {PHONE}.",
        "Мой ИНН {INN}, СНИЛС {SNILS}.",
        "В договоре указан неверный ИНН {BAD_INN}, правильный ИНН {INN}.",
        "СНИЛС {BAD_SNILS} не принимается системой, проверьте пожалуйста.",
        "Телефон: {PHONE}, почта: {EMAIL}",
        "Новый адрес доставки: {ADDRESS}. Трек-номер {TRACKING}.",
        "Мой пароль: {PASSWORD}, но войти не получается после версии {VERSION}.",
        "Оплата картой {CARD} прошла дважды {DATE}.",
        "Карта {BAD_CARD} была указана с ошибкой.",
        "Верните, пожалуйста, {AMOUNT} на счёт {IBAN}.",
        "Сервер {IP} недоступен с {TIME}. Заявка {TICKET}.",
        "Ссылка для сброса {SECRET_URL} не работает.",
        "Счёт {ORDER} на сумму {AMOUNT}, оплатить до {DATE}.",
        "Мой коллега {NAME} сталкивается с той же проблемой.",
        "Позвоните мне: {PHONE} или {PHONE}.",
        "Пишите на {EMAIL}, а не на {EMAIL}.",
        "С уважением,\n{NAME}\nтел. {PHONE}",
        "Меня зовут {NAME}, номер клиента {ORDER}.",
        "Пожалуйста, отправьте документы по адресу: {ADDRESS}",
        "Добрый день, {FIRST}!\nОбращение {TICKET} всё ещё открыто, см. {URL}.",
        "Господин {LAST} просил передать, что IPv6 {IP6} заблокирован.",
        "Спасибо,\n{FIRST}",
        "Реквизиты: ИНН {INN}, счёт {IBAN}.",
    ],
    "fr": [
        "Bonjour {FIRST},\nma commande {ORDER} du {DATE} n'est toujours pas arrivée.",
        "Madame, Monsieur,\nmerci de me rappeler au {PHONE}.\nCordialement,\n{NAME}",
        "Veuillez rembourser les {AMOUNT} sur mon compte {IBAN}.",
        "Cher Monsieur {LAST},\nla carte {CARD} a été débitée deux fois.",
        "L'IBAN {BAD_IBAN} indiqué sur la facture est faux.",
        "Téléphone : {PHONE}, e-mail : {EMAIL}",
        "Nouvelle adresse de livraison : {ADDRESS}. Numéro de suivi {TRACKING}.",
        "Mon mot de passe est {PASSWORD} mais la connexion échoue depuis la version {VERSION}.",
        "La carte {BAD_CARD} a été refusée, normal, j'avais mal tapé.",
        "Le serveur {IP} ne répond plus depuis {TIME}. Ticket {TICKET}.",
        "Le lien {SECRET_URL} ne fonctionne pas.",
        "Facture {ORDER}, montant {AMOUNT}, échéance {DATE}.",
        "Mon collègue {NAME} a le même problème.",
        "Vous pouvez me joindre au {PHONE} ou au {PHONE}.",
        "Écrivez-moi à {EMAIL} plutôt qu'à {EMAIL}.",
        "Bien à vous,\n{NAME}\n{PHONE}",
        "Je m'appelle {NAME}, numéro client {ORDER}.",
        "Merci d'envoyer les documents à l'adresse suivante : {ADDRESS}",
        "Bonjour,\nl'accès VPN ({IP6}) est bloqué depuis la mise à jour {VERSION}.",
        "Madame {LAST} du service comptable demande un rappel au {PHONE}.",
        "Merci,\n{FIRST}",
        "Prélèvement de {AMOUNT} sur {IBAN} le {DATE} : à annuler SVP.",
        "Salut {FIRST}, le dossier {TICKET} est toujours ouvert, voir {URL}.",
        "Paiement avec la carte {CARD}, référence {ORDER}.",
    ],
    "es": [
        "Hola {FIRST},\nmi pedido {ORDER} del {DATE} todavía no ha llegado.",
        "Estimados señores:\npor favor llámenme al {PHONE}.\nUn saludo,\n{NAME}",
        "Por favor, devuelvan los {AMOUNT} a mi cuenta {IBAN}.",
        "Estimado Sr. {LAST}:\nla tarjeta {CARD} fue cargada dos veces.",
        "El IBAN {BAD_IBAN} que aparece en la factura es incorrecto.",
        "Teléfono: {PHONE}, correo: {EMAIL}",
        "Nueva dirección de entrega: {ADDRESS}. Número de seguimiento {TRACKING}.",
        "Mi contraseña es {PASSWORD} pero no puedo entrar desde la versión {VERSION}.",
        "La tarjeta {BAD_CARD} fue rechazada, la escribí mal.",
        "El servidor {IP} no responde desde las {TIME}. Ticket {TICKET}.",
        "El enlace {SECRET_URL} no funciona.",
        "Factura {ORDER}, importe {AMOUNT}, vencimiento {DATE}.",
        "Mi compañero {NAME} tiene el mismo problema.",
        "Pueden llamarme al {PHONE} o al {PHONE}.",
        "Escríbanme a {EMAIL} y no a {EMAIL}.",
        "Atentamente,\n{NAME}\n{PHONE}",
        "Me llamo {NAME}, número de cliente {ORDER}.",
        "Envíen los documentos a {ADDRESS}, por favor.",
        "Buenos días,\nla VPN ({IP6}) está bloqueada desde la actualización {VERSION}.",
        "La Sra. {LAST} de contabilidad pide que la llamen al {PHONE}.",
        "Gracias,\n{FIRST}",
        "Cargo de {AMOUNT} en {IBAN} el {DATE}: anúlenlo, por favor.",
        "Hola {FIRST}, la incidencia {TICKET} sigue abierta, ver {URL}.",
        "Pago con la tarjeta {CARD}, referencia {ORDER}.",
    ],
}

#: Written after the detectors were tuned on TEMPLATES, and not used for tuning: the held-out split.
HOLDOUT_TEMPLATES: dict[str, list[str]] = {
    "en": [
        "From: {NAME} <{EMAIL}>\nSubject: refund\n\n"
        "I was charged {AMOUNT} twice on {DATE}. Card used: {CARD}.",
        "Hey there, quick one - can someone ring {PHONE} after {TIME}? Cheers",
        "We moved! Our new office is {ADDRESS}. Old invoices still show {BAD_IBAN}, please update to {IBAN}.",
        "Login from {IP} was blocked. My username is admin and the temp password: {PASSWORD}",
        "Regards\n{NAME}\nSenior Buyer, Contoso Ltd\nM: {PHONE}\nE: {EMAIL}",
        "The webhook {SECRET_URL} returns 401 since {DATE}; see {URL} for our logs.",
        "Hello {FIRST} - your colleague said to send the card details here: {CARD}, exp 09/27.",
        "Ticket {TICKET}: the number on file ({BAD_CARD}) is wrong, I never had such a card.",
        "Ms. {LAST} cannot access build {VERSION}; her phone is {PHONE}.",
        "Two of us need access: {EMAIL} and {EMAIL}. Budget code {ORDER}.",
    ],
    "de": [
        "Von: {NAME} <{EMAIL}>\nBetreff: Rückerstattung\n\n"
        "Am {DATE} wurden {AMOUNT} doppelt abgebucht (Karte {CARD}).",
        "Servus, bitte melden Sie sich morgen ab {TIME} Uhr unter {PHONE}. Danke!",
        "Wir sind umgezogen: {ADDRESS}. Die alte Bankverbindung {BAD_IBAN} bitte löschen, neu ist {IBAN}.",
        "Anmeldung von {IP} blockiert. Benutzer mmeier, neues Kennwort ist {PASSWORD}",
        "Freundliche Grüße\n{NAME}\nEinkauf, Muster GmbH\nMobil: {PHONE}",
        "Der Webhook {SECRET_URL} liefert seit {DATE} Fehler 401.",
        "Guten Morgen {FIRST}, laut Lohnsteuerbescheinigung lautet meine Steuer-ID {DETAX}.",
        "Vorgang {TICKET}: die hinterlegte Karte {BAD_CARD} gehört nicht mir.",
        "Herr {LAST} kommt mit Version {VERSION} nicht ins System, Festnetz {PHONE}.",
        "Zugang bitte für {EMAIL} und {EMAIL}, Kostenstelle {ORDER}.",
    ],
    "hu": [
        "Feladó: {NAME} <{EMAIL}>\nTárgy: visszatérítés\n\n"
        "{DATE} napon kétszer vonták le a {AMOUNT} összeget.",
        "Helló! Holnap {TIME} után hívjanak a {PHONE} számon, köszi!",
        "Elköltöztünk, az új cím: {ADDRESS}. A régi számlaszám ({BAD_HUACC}) már nem él, az új: {HUACC}.",
        "A {IP} címről blokkolták a belépést. Az ideiglenes jelszó: {PASSWORD}",
        "Üdvözlettel:\n{NAME}\nbeszerzés, Minta Kft.\nMobil: {PHONE}",
        "A webhook ({SECRET_URL}) {DATE} óta 401-es hibát ad.",
        "Jó napot {FIRST}! A TAJ számom {TAJ}, a kérelemhez kellett.",
        "{TICKET} ügy: a nyilvántartott adóazonosító ({BAD_HUTAX}) nem az enyém, "
        "a helyes adóazonosító jelem {HUTAX}.",
        "{NAME} úr a {VERSION} verzióval nem tud belépni, telefon: {PHONE}.",
        "Kérek hozzáférést a {EMAIL} és a {EMAIL} címekhez, költséghely {ORDER}.",
    ],
    "ru": [
        "От: {NAME} <{EMAIL}>\nТема: возврат\n\n{DATE} с карты {CARD} дважды списали {AMOUNT}.",
        "Привет! Наберите, пожалуйста, завтра после {TIME} на {PHONE}.",
        "Мы переехали: {ADDRESS}. Старые реквизиты {BAD_IBAN} больше не действуют, новые: {IBAN}.",
        "Вход с {IP} заблокирован. Временный пароль: {PASSWORD}",
        "С наилучшими пожеланиями,\n{NAME}\nотдел закупок\nмоб. {PHONE}",
        "Вебхук {SECRET_URL} с {DATE} отвечает 401.",
        "Добрый вечер, {FIRST}! Для заявления: СНИЛС {SNILS}, ИНН {INN}.",
        "Обращение {TICKET}: карта {BAD_CARD} в профиле не моя.",
        "Госпожа {LAST} не может войти в версию {VERSION}, её телефон {PHONE}.",
        "Дайте доступ для {EMAIL} и {EMAIL}, центр затрат {ORDER}.",
    ],
    "fr": [
        "De : {NAME} <{EMAIL}>\nObjet : remboursement\n\n"
        "Le {DATE}, {AMOUNT} ont été débités deux fois (carte {CARD}).",
        "Salut, pouvez-vous m'appeler demain après {TIME} au {PHONE} ? Merci",
        "Nous avons déménagé : {ADDRESS}. L'ancien IBAN {BAD_IBAN} n'est plus valable, le nouveau : {IBAN}.",
        "Connexion depuis {IP} bloquée. Mot de passe temporaire : {PASSWORD}",
        "Sincères salutations,\n{NAME}\nService achats\nPortable : {PHONE}",
        "Le webhook {SECRET_URL} renvoie 401 depuis le {DATE}.",
        "Bonsoir {FIRST}, voici la carte à utiliser : {CARD}.",
        "Dossier {TICKET} : la carte {BAD_CARD} enregistrée n'est pas la mienne.",
        "Mme {LAST} n'arrive pas à se connecter avec la version {VERSION}, tél. {PHONE}.",
        "Merci d'ouvrir l'accès pour {EMAIL} et {EMAIL}, centre de coût {ORDER}.",
    ],
    "es": [
        "De: {NAME} <{EMAIL}>\nAsunto: reembolso\n\n"
        "El {DATE} me cobraron {AMOUNT} dos veces (tarjeta {CARD}).",
        "Buenas, ¿pueden llamarme mañana después de las {TIME} al {PHONE}? Gracias",
        "Nos hemos mudado: {ADDRESS}. El IBAN antiguo {BAD_IBAN} ya no vale, el nuevo es {IBAN}.",
        "Acceso desde {IP} bloqueado. Contraseña temporal: {PASSWORD}",
        "Saludos cordiales,\n{NAME}\nDpto. de compras\nMóvil: {PHONE}",
        "El webhook {SECRET_URL} devuelve 401 desde el {DATE}.",
        "Buenas tardes {FIRST}, les paso la tarjeta nueva: {CARD}.",
        "Incidencia {TICKET}: la tarjeta {BAD_CARD} del perfil no es mía.",
        "La Sra. {LAST} no puede entrar con la versión {VERSION}, su teléfono es {PHONE}.",
        "Den acceso a {EMAIL} y {EMAIL}, centro de coste {ORDER}.",
    ],
}

_SLOT_RE = re.compile(r"\{([A-Z_0-9]+)\}")


def fill(template: str, lang: str, rng: random.Random) -> tuple[str, list[dict], list[dict]]:
    """Fill a template; returns the text, its entities and its decoys (with character offsets)."""
    parts: list[str] = []
    entities: list[dict] = []
    decoys: list[dict] = []
    cursor = 0
    length = 0
    for m in _SLOT_RE.finditer(template):
        literal = template[cursor : m.start()]
        parts.append(literal)
        length += len(literal)
        value, spans = SLOTS[m.group(1)](rng, lang)
        for start, end, kind in spans:
            record = {
                "start": length + start,
                "end": length + end,
                "type": kind.removeprefix("decoy:"),
                "text": value[start:end],
            }
            (decoys if kind.startswith("decoy:") else entities).append(record)
        parts.append(value)
        length += len(value)
        cursor = m.end()
    parts.append(template[cursor:])
    return "".join(parts), entities, decoys


def generate(seed: int = SEED, copies: int = COPIES) -> list[dict]:
    """Every snippet: each template of each language filled ``copies`` times (split "dev" or "holdout")."""
    rng = random.Random(seed)
    rows = []
    for split, table in (("dev", TEMPLATES), ("holdout", HOLDOUT_TEMPLATES)):
        for lang, templates in table.items():
            for t_index, template in enumerate(templates):
                for copy in range(copies):
                    text, entities, decoys = fill(template, lang, rng)
                    for ent in entities + decoys:
                        assert text[ent["start"] : ent["end"]] == ent["text"]
                    rows.append(
                        {
                            "id": f"{split}-{lang}-{t_index:02d}-{copy}",
                            "split": split,
                            "language": lang,
                            "text": text,
                            "entities": entities,
                            "decoys": decoys,
                        }
                    )
    return rows


def main() -> None:
    rows = generate()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} snippets to {OUT}")


if __name__ == "__main__":
    main()
