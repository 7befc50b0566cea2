"""Entity types, their overlap priorities and the :class:`Entity` span every PII detector returns."""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = "EMAIL"
PHONE = "PHONE"
IBAN = "IBAN"
CARD = "CARD"
IP = "IP"
URL_SECRET = "URL_SECRET"
PASSWORD = "PASSWORD"
ADDRESS = "ADDRESS"
PERSON = "PERSON"
HU_TAJ = "HU_TAJ"
HU_TAX_ID = "HU_TAX_ID"
HU_BANK_ACCOUNT = "HU_BANK_ACCOUNT"
DE_TAX_ID = "DE_TAX_ID"
RU_INN = "RU_INN"
RU_SNILS = "RU_SNILS"

#: Every entity type the redactor knows, in placeholder order.
ALL_TYPES: tuple[str, ...] = (
    EMAIL,
    PHONE,
    IBAN,
    CARD,
    IP,
    URL_SECRET,
    PASSWORD,
    ADDRESS,
    PERSON,
    HU_TAJ,
    HU_TAX_ID,
    HU_BANK_ACCOUNT,
    DE_TAX_ID,
    RU_INN,
    RU_SNILS,
)

#: Overlap resolution: the higher priority wins, then the longer span.
PRIORITY: dict[str | None, int] = {
    URL_SECRET: 100,
    EMAIL: 95,
    IBAN: 90,
    IP: 85,
    CARD: 80,
    HU_TAJ: 75,
    HU_TAX_ID: 75,
    HU_BANK_ACCOUNT: 75,
    DE_TAX_ID: 75,
    RU_INN: 75,
    RU_SNILS: 75,
    PHONE: 60,
    PASSWORD: 55,
    ADDRESS: 50,
    PERSON: 40,
}
DECOY_PRIORITY = 88
PLACEHOLDER_PRIORITY = 1000

#: What a placeholder looks like: ``<TYPE_N>``.
PLACEHOLDER_RE = re.compile(r"<([A-Z][A-Z_]{1,30})_(\d{1,6})>")


@dataclass(frozen=True)
class Entity:
    """A span of personal data found in a text: ``text[start:end]`` is of ``type`` (None for a decoy)."""

    type: str | None
    start: int
    end: int
    text: str
    method: str = "pattern"

    @property
    def priority(self) -> int:
        if self.type is None:
            return PLACEHOLDER_PRIORITY if self.method == "placeholder" else DECOY_PRIORITY
        return PRIORITY.get(self.type, 0)


def new_entity(kind: str | None, match_text: str, start: int, method: str) -> Entity:
    """An :class:`Entity` of ``kind`` for ``match_text`` found at ``start``."""
    return Entity(kind, start, start + len(match_text), match_text, method)
