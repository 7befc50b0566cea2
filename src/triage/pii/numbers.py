"""Numbers in a text: cards, national identifiers, bank accounts and phones, decided by shape, checksum and
the keyword before the number ("Tel.", "IBAN", "Bestellnummer")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from triage.pii import checksums as cs
from triage.pii.entities import (
    CARD,
    DE_TAX_ID,
    HU_BANK_ACCOUNT,
    HU_TAJ,
    HU_TAX_ID,
    PHONE,
    RU_INN,
    RU_SNILS,
    Entity,
)
from triage.pii.entities import new_entity as _ent
from triage.pii.phones import PhoneValidator

__all__ = ["find_numbers"]

_NUM_RE = re.compile(
    r"(?<![\w@#=&/\\+\-.,])"
    r"(\+\s?|\b|(?=\())"
    r"((?:\(\d{1,19}\)|\d{1,19})(?:(?:\s?\(\d{1,4}\)\s?|[ \-./]|\s?[-–/]\s?)(?:\(\d{1,19}\)|\d{1,19})){0,10})"
    r"(?![\w@]|[.,]\d)"
)

# Keywords right before a number (nearest one wins) that say what the number is.
_KEYWORDS: dict[str, str] = {
    HU_TAJ: r"taj|tb[- ]?szám|társadalombiztosítási",
    HU_TAX_ID: r"adóazonosító|adóazonosítóm|adóazonosító jel|adó azonosító",
    DE_TAX_ID: r"steuer-?id|steuer-identifikationsnummer|steueridentifikationsnummer|"
    r"identifikationsnummer|idnr|"
    r"steuerliche id|tin",
    RU_INN: r"инн|inn",
    RU_SNILS: r"снилс|snils",
    CARD: r"card|karte|kreditkarte|kártya|kártyaszám|карт[аыуе]|carte|tarjeta|visa|mastercard|amex",
    PHONE: r"tel\.?-?nr\.?|telefonnummer|handynummer|mobilnummer|rufnummer|festnetz|phone number|"
    r"telefonszám|telefonszámom|telefonszámon|mobilszám|mobilszámom|mobilszámon|"
    r"tel|tél|phone|telephone|téléphone|telefon|mobil|mobile|mobilom|"
    r"handy|cell|call|whatsapp|viber|fax|sms|hívjon|hívható|hívjanak|elérhető|elérhetőség|"
    r"тел|телефон|телефона|телефону|моб|мобильный|звоните|позвоните|перезвоните|"
    r"portable|appelez|appeler|joignable|rappeler|teléfono|telefono|tlf|móvil|movil|llámeme|llamar|"
    r"llamen|rückruf|erreichbar|anrufen|zurückrufen|ring me|reach me|contact number",
    "NEGATIVE": r"order|bestellung|bestellnummer|bestell-nr|auftrag|auftragsnummer|rendelés|rendelésszám|"
    r"rendelésem|заказ|заказа|commande|pedido|invoice|rechnung|rechnungsnummer|számla|számlaszám|"
    r"счет|счёт|facture|factura|ticket|case|vorgang|ügyszám|заявк[аи]|обращени[ея]|tracking|"
    r"sendung|sendungsnummer|csomag|csomagszám|трек|suivi|seguimiento|kundennummer|customer|"
    r"ügyfélszám|ügyfélazonosító|клиента|contrat|contrato|vertrag|vertragsnummer|szerződés|договор|"
    r"serial|seriennummer|sorozatszám|серийный|imei|artikel|sku|ref|referenz|referencia|référence|"
    r"reference|payment reference|cliente|client|kunde|transaction|transaktion|tranzakció|транзакци[ия]|"
    r"id|nr|№|isbn|ean|plz|irányítószám|"
    r"индекс|code postal|código postal|zip|postcode|version|build|error|fehler|hiba|ошибка|erreur|"
    r"code|kód|код|código|port|pin|otp|puk|iban|konto|kontonummer|compte|cuenta|bankszámla|"
    r"amount|betrag|összeg|сумма|montant|importe|expires|gültig|lejár",
}
_KEYWORD_RE = re.compile(
    "|".join(rf"(?P<{name}>(?<![^\W\d_])(?:{pattern})(?![^\W\d_]))" for name, pattern in _KEYWORDS.items()),
    re.IGNORECASE,
)
_KEYWORD_WINDOW = 48
_ID_VALIDATORS: dict[str, Callable[[str], bool]] = {
    HU_TAJ: cs.taj_valid,
    HU_TAX_ID: cs.hu_tax_id_valid,
    DE_TAX_ID: cs.de_tax_id_valid,
    RU_INN: cs.ru_inn_valid,
    RU_SNILS: cs.ru_snils_valid,
}

_DATE_RE = re.compile(
    r"^(?:\d{1,2}[./\-]\d{1,2}[./\-](?:\d{2}|\d{4})\.?|\d{4}[./\-]\d{1,2}[./\-]\d{1,2}\.?|"
    r"(?:19|20)\d\d\s?[-–/]\s?(?:19|20)?\d\d|\d{4}\.\s?\d{1,2}\.\s?\d{1,2}\.?)$"
)
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")
_CURRENCY_AFTER_RE = re.compile(
    r"^\s?(?:€|eur|euro|ft|huf|forint|руб|р\.|₽|rub|\$|usd|£|gbp|chf|,-|kr)", re.IGNORECASE
)
_CURRENCY_BEFORE_RE = re.compile(r"(?:€|\$|£|eur|usd|huf|chf)\s?$", re.IGNORECASE)
_DOTTED_PHONE_RE = re.compile(r"^(?:0\d(?:\.\d\d){4}|\d{3}\.\d{3}\.\d{4})$")  # French pairs, US 3.3.4
_SNILS_SHAPE_RE = re.compile(r"^\d{3}-\d{3}-\d{3}[ \-]\d{2}$")
_HU_ACCOUNT_SHAPE_RE = re.compile(r"^\d{8}-\d{8}(?:-\d{8})?$")
_CARD_SHAPE_RE = re.compile(
    r"^(?:\d{4}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,3})?|\d{4}[ \-]\d{6}[ \-]\d{4,5}|\d{13,19})$"
)


def _card_prefix_ok(digits: str) -> bool:
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"  # Visa
        or 51 <= two <= 55
        or 2221 <= four <= 2720  # Mastercard
        or two in (34, 37)  # Amex
        or digits.startswith(("6011", "65", "644", "645", "646", "647", "648", "649"))  # Discover
        or 3528 <= four <= 3589  # JCB
        or two in (36, 38, 39)
        or 300 <= int(digits[:3]) <= 305  # Diners
        or two in (50, 56, 57, 58, 62, 63, 67)  # Maestro, UnionPay
        or 2200 <= four <= 2204  # Mir
    )


def _nearest_keyword(text: str, start: int) -> str | None:
    line_start = text.rfind("\n", max(0, start - _KEYWORD_WINDOW), start) + 1
    window = text[max(line_start, start - _KEYWORD_WINDOW) : start]
    last = None
    for m in _KEYWORD_RE.finditer(window):
        last = m
    if last is None:
        return None
    # Another number between the keyword and this one ("Tel. 030 1234567, 0171 ...") keeps the keyword,
    # but a sentence break does not.
    between = window[last.end() :]
    if re.search(r"[.!?;]\s", between):
        return None
    return last.lastgroup


def find_numbers(text: str, phone: PhoneValidator, types: frozenset[str]) -> Iterable[Entity]:
    for m in _NUM_RE.finditer(text):
        raw = (m.group(1) + m.group(2)).strip()
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        raw = raw.rstrip(" -./")
        if raw.startswith("(") and raw.endswith(")") and raw.count("(") == 1 and raw.count(")") == 1:
            raw, start = raw[1:-1], start + 1  # "(5586 2368 2562 4316)": the parentheses are not part of it
        digits = cs.digits_of(re.sub(r"[()+–\s]", "", raw))
        if not digits.isdigit() or len(digits) < 7:
            continue
        entity = _classify_number(text, raw, digits, start, phone, types)
        if entity is not None:
            yield entity


def _classify_number(
    text: str, raw: str, digits: str, start: int, phone: PhoneValidator, types: frozenset[str]
) -> Entity | None:
    keyword = _nearest_keyword(text, start)
    after = text[start + len(raw) : start + len(raw) + 8]
    before = text[max(0, start - 5) : start]
    if keyword in _ID_VALIDATORS:
        if _ID_VALIDATORS[keyword](raw):
            return _ent(keyword, raw, start, "checksum")
        return _ent(None, raw, start, "id-decoy")
    # Shapes that are never phones: SNILS, Hungarian bank accounts, cards.
    if _SNILS_SHAPE_RE.match(raw):
        return _ent(RU_SNILS if cs.ru_snils_valid(raw) else None, raw, start, "checksum")
    if _HU_ACCOUNT_SHAPE_RE.match(raw):
        return _ent(HU_BANK_ACCOUNT if cs.hu_bank_account_valid(raw) else None, raw, start, "checksum")
    grouped = not raw.isdigit()
    # Contiguous digits count as a card only at the common lengths (15 Amex, 16 others) and not right after
    # an order/tracking/reference word; grouped 4-4-4-4 (or 4-6-5) shapes at any card length.
    card_shaped = (
        13 <= len(digits) <= 19
        and _CARD_SHAPE_RE.match(raw) is not None
        and _card_prefix_ok(digits)
        and (grouped or (len(digits) in (15, 16) and keyword != "NEGATIVE"))
    )
    if card_shaped or keyword == CARD and 12 <= len(digits) <= 19:
        if cs.luhn_valid(digits) and _card_prefix_ok(digits):
            return _ent(CARD, raw, start, "luhn")
        return _ent(None, raw, start, "card-decoy")
    if keyword == "NEGATIVE":
        return None
    if keyword != PHONE and (
        _DATE_RE.match(raw)
        or _THOUSANDS_RE.match(raw)
        or _CURRENCY_AFTER_RE.match(after)
        or _CURRENCY_BEFORE_RE.search(before)
    ):
        return None
    if raw.count(".") >= 2 and not _DOTTED_PHONE_RE.match(raw) and keyword != PHONE:
        return None  # dotted versions and amounts; French "01.23.45.67.89" is a phone
    if PHONE in types and phone.is_phone(raw, digits, keyword=keyword == PHONE):
        return _ent(PHONE, raw, start, "phonenumbers" if phone.use_library else "format")
    # A 12-digit INN or an 11-digit German tax ID, written without a keyword, is left alone on purpose:
    # without context a checksum alone is a 1-in-10 / 1-in-100 coincidence.
    return None
