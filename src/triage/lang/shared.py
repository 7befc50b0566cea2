"""Data that belongs to no single language: name particles and the money-amount cues."""

from __future__ import annotations

#: Lower-case particles inside a person's name ("Ludwig van Beethoven", "María del Carmen").
NAME_PARTICLES: frozenset[str] = frozenset(
    {
        "von",
        "van",
        "der",
        "de",
        "del",
        "della",
        "la",
        "le",
        "du",
        "da",
        "di",
        "dos",
        "y",
        "zu",
        "ten",
        "ter",
        "bin",
        "al",
    }
)

#: A number, with thousands separators or decimals (regex fragment).
AMOUNT = r"\d+(?:[.,' ]\d+)*"
#: A currency sign, code or word in any of the cue languages (regex fragment).
CURRENCY = (
    r"(?:€|\$|£|₽|eur|euros?|usd|dollars?|gbp|pounds|huf|ft|forint|rub|руб\w*|рубл\w*|chf|zł|pln|reais|r\$)"
)
#: Escalation cues of kind "money" in every language: an amount with its currency.
MONEY_CUES: tuple[str, ...] = (rf"{CURRENCY}\s?{AMOUNT}", rf"{AMOUNT}\s?{CURRENCY}")
