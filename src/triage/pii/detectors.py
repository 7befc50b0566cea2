"""Pattern detectors for personal data: each finds candidate spans and validates them (checksums, formats,
context words) so look-alikes with a wrong check digit are left alone.

All patterns are anchored on fixed character classes with bounded repeats, so the cost is linear in the text
length. Detectors return :class:`Entity` candidates, including *decoys* (``type=None``): strings shaped like
an IBAN or card whose check digit is wrong. Decoys take part in overlap resolution (so no other detector masks
part of them) and are dropped from the output.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from triage.pii import checksums as cs

__all__ = ["ALL_TYPES", "Entity", "PhoneValidator", "detect_all"]

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


def _ent(kind: str | None, match_text: str, start: int, method: str) -> Entity:
    return Entity(kind, start, start + len(match_text), match_text, method)


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
# Numbers: cards, national identifiers, bank accounts and phones, decided by shape, checksum and context
# --------------------------------------------------------------------------------------------------

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


class PhoneValidator:
    """Decides whether a number written in a text is a phone number.

    With ``phonenumbers`` (Google's libphonenumber metadata) a number must be valid for a region whose
    national format it is written in; without it, a format heuristic per country is used. ``regions`` are the
    countries whose national formats (no ``+``) are recognised.
    """

    TRUNK = {
        "HU": ("06",),
        "DE": ("0",),
        "FR": ("0",),
        "GB": ("0",),
        "RU": ("8",),
        "ES": ("",),
        "US": ("", "1"),
        "AT": ("0",),
        "CH": ("0",),
        "IT": ("0",),
        "UA": ("0",),
        "BY": ("8",),
        "KZ": ("8",),
    }
    _CC_LENGTHS = {
        "1": (10, 10),
        "7": (10, 10),
        "33": (9, 9),
        "34": (9, 9),
        "36": (8, 9),
        "44": (9, 10),
        "49": (6, 13),
        "43": (6, 13),
        "41": (9, 9),
        "39": (6, 11),
        "380": (9, 9),
        "375": (9, 9),
        "48": (9, 9),
        "420": (9, 9),
        "421": (9, 9),
        "40": (9, 9),
        "31": (9, 9),
        "32": (8, 9),
        "351": (9, 9),
        "353": (7, 9),
        "45": (8, 8),
        "46": (7, 10),
        "47": (8, 8),
        "358": (6, 11),
        "30": (10, 10),
        "90": (10, 10),
        "385": (8, 9),
        "386": (8, 8),
        "381": (8, 9),
    }

    def __init__(
        self,
        regions: Sequence[str] = ("HU", "DE", "RU", "FR", "ES", "GB", "US"),
        use_library: bool | None = None,
    ) -> None:
        self.regions = tuple(r.upper() for r in regions)
        if use_library is None:
            try:
                import phonenumbers  # noqa: F401

                use_library = True
            except ImportError:
                use_library = False
        elif use_library:
            try:
                import phonenumbers  # noqa: F401
            except ImportError as exc:
                raise ImportError(
                    "use_library=True needs the phonenumbers package: pip install 'helpdesk-triage[pii]'"
                ) from exc
        self.use_library = use_library

    def is_phone(self, raw: str, digits: str, *, keyword: bool) -> bool:
        """True if ``raw`` (as written, ``digits`` its digits) is a phone number; ``keyword``: a phone word
        ("Tel.", "телефон") comes right before it, which relaxes the check to a possible number."""
        international = raw.lstrip().startswith("+") or digits.startswith("00")
        if international:
            digits = digits[2:] if digits.startswith("00") else digits
            if not 7 <= len(digits) <= 15:
                return False
            return self._international(digits, keyword)
        if not 7 <= len(digits) <= 13 or (len(digits) < 8 and not keyword):
            return False
        return self._national(raw, digits, keyword)

    # -- with phonenumbers ---------------------------------------------------------------------------------
    def _international(self, digits: str, keyword: bool) -> bool:
        if self.use_library:
            import phonenumbers

            try:
                number = phonenumbers.parse("+" + digits, None)
            except phonenumbers.NumberParseException:
                return False
            return phonenumbers.is_valid_number(number) or (
                keyword and phonenumbers.is_possible_number(number)
            )
        for cc_len in (1, 2, 3):
            span = self._CC_LENGTHS.get(digits[:cc_len])
            if span:
                national = digits[cc_len:].removeprefix("0") if cc_len > 1 else digits[cc_len:]
                return span[0] <= len(national) <= span[1] + (1 if keyword else 0)
        return keyword and 8 <= len(digits) <= 13

    def _national(self, raw: str, digits: str, keyword: bool) -> bool:
        for region in self.regions:
            trunks = self.TRUNK.get(region, ("0",))
            if not any(digits.startswith(t) for t in trunks) and not keyword:
                continue
            if region == "US" and not keyword and not self._US_SHAPE.match(raw.strip()):
                continue  # ten bare digits are an order number as often as a US phone
            if self.use_library:
                if self._library_ok(raw, region, keyword):
                    return True
            elif self._heuristic_ok(raw, digits, region, keyword):
                return True
        return False

    @staticmethod
    def _library_ok(raw: str, region: str, keyword: bool) -> bool:
        import phonenumbers

        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number) or (keyword and phonenumbers.is_possible_number(number))

    _US_SHAPE = re.compile(r"^(?:1[ .\-]?)?(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}$")

    def _heuristic_ok(self, raw: str, digits: str, region: str, keyword: bool) -> bool:
        n = len(digits)
        if region == "HU":
            return digits.startswith("06") and n in (10, 11)
        if region == "RU":
            return digits.startswith("8") and n == 11 and digits[1] in "3489"
        if region == "ES":
            return n == 9 and digits[0] in "6789"
        if region == "US":
            if digits.startswith("1") and n == 11:
                digits, n = digits[1:], 10
            return (
                n == 10
                and digits[0] in "23456789"
                and digits[3] in "23456789"
                and (keyword or bool(self._US_SHAPE.match(raw.strip())))
            )
        if region == "FR":
            return digits.startswith("0") and digits[1] in "123456789" and n == 10
        if region == "GB":
            return digits.startswith("0") and digits[1] in "123789" and n in (10, 11)
        # DE and other trunk-0 countries
        return digits.startswith("0") and digits[1] != "0" and 9 <= n <= 12


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
# Person names: only after salutations, titles, self-introductions, or as a signature after a closing
# --------------------------------------------------------------------------------------------------

_SALUTATION = (
    r"dear|hi|hello|hey|good morning|good afternoon|good evening|"
    r"sehr geehrte|sehr geehrter|liebe|lieber|hallo|guten tag|guten morgen|moin|servus|"
    r"kedves|tisztelt|szia|sziasztok|helló|hello|jó napot|üdv|"
    r"уважаемый|уважаемая|здравствуйте|добрый день|доброе утро|добрый вечер|привет|дорогой|дорогая|"
    r"cher|chère|bonjour|bonsoir|salut|"
    r"estimado|estimada|querido|querida|hola|buenos días|buenas tardes|buenas noches"
)
_INTRO = (
    r"my name is|my name's|this is|i am|i'm|mein name ist|ich heiße|ich heisse|hier ist|hier spricht|"
    r"a nevem|nevem|az én nevem|меня зовут|моё имя|мое имя|с вами|"
    r"je m'appelle|je m’appelle|je suis|mon nom est|"
    r"me llamo|mi nombre es|soy|le habla|signed|gez\.|aláírás"
)
_TITLES = (
    r"mr\.?|mrs\.?|ms\.?|miss|mx\.?|dr\.?|prof\.?|sir|herr|herrn|frau|monsieur|madame|mademoiselle|m\.|mme\.?|"
    r"mlle\.?|señor|señora|señorita|sr\.?|sra\.?|srta\.?|don|doña|dña\.?|господин|госпожа|г-н|г-жа|"
    r"ing\.?|mag\.?|dipl\.-ing\.?"
)
_CLOSINGS = (
    r"best regards|kind regards|kindest regards|warm regards|regards|best wishes|best|cheers|sincerely|"
    r"yours sincerely|yours faithfully|yours truly|thanks|thank you|many thanks|thanks in advance|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|viele grüße|beste grüße|liebe grüße|"
    r"herzliche grüße|schöne grüße|grüße|gruß|mfg|lg|vg|danke|vielen dank|"
    r"üdvözlettel|tisztelettel|baráti üdvözlettel|köszönettel|köszönöm|üdv|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|спасибо|заранее спасибо|"
    r"cordialement|bien cordialement|bien à vous|sincères salutations|salutations|merci|merci d'avance|"
    r"saludos|saludos cordiales|un saludo|atentamente|cordialmente|gracias|muchas gracias|un abrazo"
)
_STOPWORDS = frozenset(
    w.lower()
    for w in (
        "team",
        "teams",
        "all",
        "everyone",
        "there",
        "guys",
        "folks",
        "sir",
        "madam",
        "sirs",
        "customer",
        "customers",
        "service",
        "support",
        "help",
        "helpdesk",
        "desk",
        "colleagues",
        "friends",
        "admin",
        "administrator",
        "it",
        "sales",
        "billing",
        "manager",
        "hr",
        "again",
        "thanks",
        "thank",
        "please",
        "i",
        "we",
        "my",
        "the",
        "a",
        "damen",
        "herren",
        "kunde",
        "kundin",
        "kunden",
        "kundenservice",
        "kundendienst",
        "kollegen",
        "kolleginnen",
        "zusammen",
        "leute",
        "mitarbeiter",
        "abteilung",
        "support-team",
        "service-team",
        "servicetEAM",
        "ich",
        "wir",
        "bitte",
        "danke",
        "ügyfélszolgálat",
        "ügyfélszolgálatot",
        "ügyintéző",
        "cím",
        "hölgyem",
        "uram",
        "kollégák",
        "kolléga",
        "munkatársak",
        "ügyfél",
        "partnerünk",
        "felhasználó",
        "mindenkinek",
        "csapat",
        "köszönöm",
        "kérem",
        "коллеги",
        "господа",
        "поддержка",
        "служба",
        "сотрудники",
        "команда",
        "клиент",
        "администратор",
        "подскажите",
        "помогите",
        "пожалуйста",
        "спасибо",
        "прошу",
        "у",
        "я",
        "мы",
        "не",
        "madame",
        "monsieur",
        "messieurs",
        "mesdames",
        "équipe",
        "client",
        "cliente",
        "clients",
        "service",
        "collègues",
        "tous",
        "à",
        "merci",
        "je",
        "nous",
        "equipo",
        "soporte",
        "atención",
        "servicio",
        "clientes",
        "compañeros",
        "todos",
        "señor",
        "señora",
        "señores",
        "gracias",
        "yo",
        "por",
        "favor",
        "mr",
        "mrs",
        "ms",
        "herr",
        "frau",
        "dr",
        "prof",
        "customer-service",
        "it-support",
        "it-team",
        "technical",
        "technik",
        "german",
        "english",
        "french",
        "spanish",
        "russian",
        "hungarian",
        "deutsch",
        "unable",
        "not",
        "sure",
        "writing",
        "having",
        "trying",
        "still",
        "calling",
        "contacting",
        "sorry",
        "here",
        "back",
        "new",
        "from",
        "ist",
        "kein",
        "keine",
        "nicht",
        "bereits",
        "a",
        "az",
        "egy",
        "nem",
        "már",
        "во",
        "в",
        "на",
        "le",
        "la",
        "les",
        "un",
        "une",
        "de",
        "el",
        "los",
        "las",
        "una",
        "muy",
        "buenas",
        "buenos",
        "día",
        "días",
        "ügyfelünk",
        "ügyfele",
        "ügyfelük",
        "előfizetője",
        "én",
        "kedves",
        "tisztelt",
        "úr",
        "úrnő",
        "asszony",
        "üdvözlöm",
        "szia",
        "sziasztok",
        "helló",
        "hello",
        "hi",
        "ihr",
        "ihre",
        "ihren",
        "your",
        "votre",
        "felhasználónk",
        "vásárlónk",
        "előfizetőnk",
        "nutzer",
        "nutzerin",
        "mitglied",
        "interessent",
        "valued",
        "user",
        "users",
        "клиенты",
        "коллега",
        "пользователь",
        "абонент",
        "покупатель",
        "usuario",
        "usuaria",
        "abonné",
        "utilisateur",
        "world",
        "morning",
        "afternoon",
        "evening",
        "day",
        "tag",
        "today",
        "heute",
        "ma",
        "сегодня",
        "aujourd'hui",
        "hoy",
        "ok",
        "okay",
        "sorry",
        "entschuldigung",
    )
)
_PARTICLES = frozenset(
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
_NAME_TOKEN_RE = re.compile(r"[^\W\d_][\w'’\-]{0,30}\.?|[^\W\d_]\.")


def _longest_first(alternation: str) -> str:
    """The ``|``-separated alternatives longest first, so "saludos cordiales" wins over "saludos"."""
    return "|".join(sorted(set(alternation.split("|")), key=lambda alt: (-len(alt), alt)))


_SALUTATION_RE = re.compile(
    rf"(?<![^\W\d_])(?:{_longest_first(_SALUTATION)})(?![^\W\d_])[ ,]{{0,3}}", re.IGNORECASE
)
_INTRO_RE = re.compile(rf"(?<![^\W\d_])(?:{_longest_first(_INTRO)})(?![^\W\d_])[ :,]{{0,3}}", re.IGNORECASE)
_TITLE_RE = re.compile(rf"(?<![^\W\d_])(?:{_TITLES})(?![^\W\d_])\s{{0,2}}", re.IGNORECASE)
_CLOSING_LINE_RE = re.compile(
    rf"^\s*(?:{_longest_first(_CLOSINGS)})(?![^\W\d_])[\s,.!:;\-–—]*(.*)$", re.IGNORECASE
)
# Closings that are everyday words too ("thanks, Windows Update"): after a comma they start no signature.
_PLAIN_CLOSINGS = frozenset(
    "thanks|thank you|many thanks|best|cheers|danke|vielen dank|merci|gracias|muchas gracias|спасибо|"
    "köszönöm|üdv|lg|vg|mfg|salutations".split("|")
)
_CLAUSE_CLOSINGS = "|".join(set(_CLOSINGS.split("|")) - _PLAIN_CLOSINGS)
# A closing after a sentence or clause on the same line: ". Kind regards, Anna", ", с уважением, Мария"
_INLINE_CLOSING_RE = re.compile(
    rf"(?:[.!?]\s{{1,3}}(?:{_longest_first(_CLOSINGS)})"
    rf"|[,;]\s{{1,3}}(?:{_longest_first(_CLAUSE_CLOSINGS)}))"
    r"(?![^\W\d_])[,.!:;\-–—]?\s*(?=[^\W\d_]|$)",
    re.IGNORECASE,
)
_HU_HONORIFIC_RE = re.compile(
    r"((?:[A-ZÁÉÍÓÖŐÚÜŰ][\w\-]{1,30}\s){1,3})(?:[úÚ]r|[úÚ]rnak|[aA]sszony|[aA]sszonynak|[úÚ]rnő)\b"
)
# Hungarian self-introduction with the name first: "Szabó Éva vagyok" (2-3 capitalised words right before it).
_HU_SELF_INTRO_RE = re.compile(r"(?<![\w'’\-])((?:[^\W\d_][\w'’\-]{0,30} ){2,3})vagyok(?![^\W\d_])")
_TERMINATOR = set(",!.:;?)\n")
_SIGNATURE_DELIMITERS = frozenset({"--", "—", "–", "__"})


def _is_name_token(token: str) -> bool:
    word = token.rstrip(".")
    if not word or not word[0].isupper():
        return False
    if word.lower() in _STOPWORDS:
        return False
    # ALL-CAPS words longer than 3 letters are headings or acronyms, not names ("URGENT", "VPN").
    return not (len(word) > 3 and word.isupper())


def _scan_name(text: str, pos: int, *, need_terminator: bool, max_tokens: int = 4) -> tuple[int, int] | None:
    """Capitalised name tokens starting at ``pos`` on the same line; (start, end) or None."""
    limit = min(len(text), pos + 200)  # a name is short: never scan a whole long line (linear time overall)
    line_end = text.find("\n", pos, limit)
    line_end = limit if line_end == -1 else line_end
    end = pos
    count = 0
    cursor = pos
    while count < max_tokens:
        while cursor < line_end and text[cursor] == " ":
            cursor += 1
        m = _NAME_TOKEN_RE.match(text, cursor, line_end)
        if not m:
            break
        token = m.group(0)
        if token.lower() in _PARTICLES and count and need_terminator:
            cursor = m.end()
            continue
        if not _is_name_token(token):
            break
        # A trailing dot is an initial ("J.") or a sentence end; keep it only for one-letter initials.
        end = m.end() if len(token.rstrip(".")) == 1 else m.start() + len(token.rstrip("."))
        cursor = m.end()
        count += 1
    if count == 0:
        return None
    if need_terminator:
        rest = text[end:line_end].lstrip(" ")
        if rest and rest[0] not in _TERMINATOR and not rest.startswith(("-", "–", "—")):
            return None
    return pos + (len(text[pos:end]) - len(text[pos:end].lstrip())), end


def find_names(text: str) -> Iterable[Entity]:
    for m in _SALUTATION_RE.finditer(text):
        pos = m.end()
        titled = _TITLE_RE.match(text, pos)
        while titled and titled.end() > pos:
            pos = titled.end()
            titled = _TITLE_RE.match(text, pos)
        span = _scan_name(text, pos, need_terminator=True, max_tokens=3)
        if span:
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "salutation")
    for m in _INTRO_RE.finditer(text):
        span = _scan_name(text, m.end(), need_terminator=False, max_tokens=3)
        if span and (
            m.group(0).strip().lower() not in {"this is", "i am", "i'm", "je suis", "soy", "с вами"}
            or _terminated(text, span[1])
        ):
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "introduction")
    for m in _TITLE_RE.finditer(text):
        if text[m.start()].islower() and not m.group(0).lower().startswith(
            ("herr", "frau", "señor", "señora")
        ):
            continue
        span = _scan_name(text, m.end(), need_terminator=False, max_tokens=3)
        if span and span[0] == m.end():
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "title")
    for m in _HU_HONORIFIC_RE.finditer(text):
        tokens = list(re.finditer(r"\S+", m.group(1)))
        while tokens and not _is_name_token(tokens[0].group(0)):
            tokens.pop(0)  # "Kedves Nagy Úr": the salutation is not part of the name
        if tokens and all(_is_name_token(t.group(0)) for t in tokens):
            start, end = m.start(1) + tokens[0].start(), m.start(1) + tokens[-1].end()
            yield Entity(PERSON, start, end, text[start:end], "title")
    yield from _hu_self_introductions(text)
    yield from _signature_names(text)


def _hu_self_introductions(text: str) -> Iterable[Entity]:
    for m in _HU_SELF_INTRO_RE.finditer(text):
        tokens = list(re.finditer(r"\S+", m.group(1)))
        while tokens and not _is_name_token(tokens[0].group(0)):
            tokens.pop(0)  # "hogy Kiss Bence vagyok", "Én Kiss Bence vagyok": the name starts later
        if len(tokens) >= 2 and all(_is_name_token(t.group(0)) for t in tokens):
            start, end = m.start(1) + tokens[0].start(), m.start(1) + tokens[-1].end()
            yield Entity(PERSON, start, end, text[start:end], "introduction")


def _terminated(text: str, end: int) -> bool:
    rest = text[end : end + 3].lstrip(" ")
    return not rest or rest[0] in _TERMINATOR


def _signature_names(text: str) -> Iterable[Entity]:
    lines = text.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    for index, line in enumerate(lines):
        if len(line) > 400:
            continue
        line_end = offsets[index] + len(line)
        m = _CLOSING_LINE_RE.match(line) if len(line) <= 80 else None
        if line.strip() in _SIGNATURE_DELIMITERS:
            tails = [len(line)]  # "-- " (the e-mail signature delimiter): the name is on the next line
        else:
            # A closing that opens the line ("Üdvözlettel: Tóth Gábor") or follows a sentence on it
            # ("Спасибо! С уважением, Мария", "..., cordialement, Anne"): the name ends the line, or is next.
            tails = [m.start(1)] if m else []
            tails += [found.end() for found in _INLINE_CLOSING_RE.finditer(line)][-1:]
        found_here = False
        for tail_start in tails:
            if not line[tail_start:].strip():
                continue
            span = _scan_name(text, offsets[index] + tail_start, need_terminator=True, max_tokens=4)
            if span and not text[span[1] : line_end].strip(" ,.!-–—"):
                yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "signature")
                found_here = True
                break
        if found_here or not any(not line[t:].strip() for t in tails):
            continue
        # The name is on the next non-blank line, alone (up to 4 tokens, nothing else on the line).
        nxt = index + 1
        while nxt < len(lines) and not lines[nxt].strip():
            nxt += 1
        if nxt >= len(lines) or nxt - index > 2 or len(lines[nxt].strip()) > 50:
            continue
        start = offsets[nxt]
        title = _TITLE_RE.match(text, start + (len(lines[nxt]) - len(lines[nxt].lstrip())))
        span = _scan_name(text, title.end() if title else start, need_terminator=True, max_tokens=4)
        if span and not text[span[1] : offsets[nxt] + len(lines[nxt])].strip(" ,.-–—"):
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "signature")


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
