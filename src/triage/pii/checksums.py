"""Check-digit algorithms for the identifiers the redactor masks, and helpers that compute check digits.

Every ``*_valid`` function takes the identifier as written (spaces, dashes and dots are ignored) and
returns ``True`` only when its length, format and check digit(s) are right. The ``*_check_digit(s)`` helpers
compute the check digit(s) for a body, which is how test and benchmark data with valid (and deliberately
invalid) values is generated.
"""

from __future__ import annotations

import re

__all__ = [
    "IBAN_LENGTHS",
    "de_tax_id_check_digit",
    "de_tax_id_valid",
    "digits_of",
    "hu_bank_account_valid",
    "hu_block_check_digit",
    "hu_tax_id_check_digit",
    "hu_tax_id_valid",
    "iban_check_digits",
    "iban_valid",
    "luhn_check_digit",
    "luhn_valid",
    "ru_inn_check_digits",
    "ru_inn_valid",
    "ru_snils_check_digits",
    "ru_snils_valid",
    "taj_check_digit",
    "taj_valid",
]

#: IBAN length by country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "RU": 33,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}

_SEPARATORS = re.compile(r"[\s\-./]")


def digits_of(value: str) -> str:
    """``value`` without spaces, dashes, dots and slashes."""
    return _SEPARATORS.sub("", value)


def _all_digits(value: str, *lengths: int) -> str | None:
    compact = digits_of(value)
    if compact.isascii() and compact.isdigit() and len(compact) in lengths:
        return compact
    return None


# --- IBAN (ISO 13616, mod 97-10) ----------------------------------------------------------------------------


def _iban_number(rearranged: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in rearranged))


def iban_valid(value: str) -> bool:
    """True for an IBAN with the right length for its country and a correct mod-97 check."""
    compact = digits_of(value).upper()
    if not compact.isascii() or not compact.isalnum() or len(compact) < 15:
        return False
    country = compact[:2]
    if IBAN_LENGTHS.get(country) != len(compact) or not compact[2:4].isdigit() or not country.isalpha():
        return False
    return _iban_number(compact[4:] + compact[:4]) % 97 == 1


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits that make ``country + digits + bban`` a valid IBAN."""
    remainder = _iban_number((bban + country + "00").upper()) % 97
    return f"{98 - remainder:02d}"


# --- Payment cards (Luhn) -----------------------------------------------------------------------------------


def _luhn_sum(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def luhn_valid(value: str) -> bool:
    """True when ``value`` (digits, separators ignored) passes the Luhn check."""
    compact = digits_of(value)
    return compact.isascii() and compact.isdigit() and len(compact) >= 2 and _luhn_sum(compact) % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The Luhn digit to append to ``body``."""
    return str((10 - _luhn_sum(body + "0") % 10) % 10)


# --- Hungary ------------------------------------------------------------------------------------------------


def taj_check_digit(body: str) -> str:
    """Check digit of a Hungarian TAJ number (8-digit body; weights 3 and 7 alternating, mod 10)."""
    return str(sum(int(d) * (3 if i % 2 == 0 else 7) for i, d in enumerate(body)) % 10)


def taj_valid(value: str) -> bool:
    """True for a 9-digit Hungarian TAJ (social security) number with a correct check digit."""
    compact = _all_digits(value, 9)
    return compact is not None and taj_check_digit(compact[:8]) == compact[8]


def hu_tax_id_check_digit(body: str) -> str | None:
    """Check digit of a Hungarian personal tax ID (adóazonosító jel, 9-digit body); None if it has none."""
    remainder = sum(int(d) * (i + 1) for i, d in enumerate(body)) % 11
    return None if remainder == 10 else str(remainder)


def hu_tax_id_valid(value: str) -> bool:
    """True for a 10-digit Hungarian personal tax ID: starts with 8, correct check digit."""
    compact = _all_digits(value, 10)
    return compact is not None and compact[0] == "8" and hu_tax_id_check_digit(compact[:9]) == compact[9]


def hu_block_check_digit(body: str) -> str:
    """Check digit of a 7-digit block of a Hungarian bank account number (weights 9, 7, 3, 1; mod 10)."""
    weights = (9, 7, 3, 1, 9, 7, 3)
    return str((10 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 10) % 10)


def hu_bank_account_valid(value: str) -> bool:
    """True for a Hungarian bank account number (2x8 or 3x8 digits), each 8-digit block check-digit valid."""
    compact = _all_digits(value, 16, 24)
    if compact is None:
        return False
    blocks = [compact[i : i + 8] for i in range(0, len(compact), 8)]
    # The first block (bank + branch) and the rest (the account) each carry their own check digit.
    first_ok = hu_block_check_digit(blocks[0][:7]) == blocks[0][7]
    rest = "".join(blocks[1:])
    weights = (9, 7, 3, 1) * 4
    rest_ok = sum(int(d) * w for d, w in zip(rest, weights, strict=False)) % 10 == 0
    return first_ok and rest_ok


# --- Germany ------------------------------------------------------------------------------------------------


def de_tax_id_check_digit(body: str) -> str:
    """Check digit of a German Steuer-ID (10-digit body; ISO 7064 MOD 11,10)."""
    product = 10
    for char in body:
        total = (int(char) + product) % 10 or 10
        product = (total * 2) % 11
    return str((11 - product) % 10)


def de_tax_id_valid(value: str) -> bool:
    """True for an 11-digit German Steuer-ID: no leading 0, a digit repeated 2-3 times, check digit ok."""
    compact = _all_digits(value, 11)
    if compact is None or compact[0] == "0":
        return False
    body = compact[:10]
    counts = sorted((body.count(d) for d in set(body)), reverse=True)
    if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] != 1):
        return False
    return de_tax_id_check_digit(body) == compact[10]


# --- Russia -------------------------------------------------------------------------------------------------

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def ru_inn_check_digits(body: str) -> str:
    """Check digit(s) of a Russian INN: one for a 9-digit body (companies), two for 10 digits (persons)."""
    if len(body) == 9:
        return _inn_digit(body, _INN10)
    first = _inn_digit(body, _INN11)
    return first + _inn_digit(body + first, _INN12)


def ru_inn_valid(value: str) -> bool:
    """True for a 10-digit (company) or 12-digit (person) Russian INN with correct check digit(s)."""
    compact = _all_digits(value, 10, 12)
    if compact is None:
        return False
    body = compact[:9] if len(compact) == 10 else compact[:10]
    return ru_inn_check_digits(body) == compact[len(body) :]


def ru_snils_check_digits(body: str) -> str:
    """The two check digits of a Russian SNILS (9-digit body; weights 9..1, mod 101, 100 -> 00)."""
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    if total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


def ru_snils_valid(value: str) -> bool:
    """True for an 11-digit SNILS with correct check digits (numbers up to 001-001-998 carry no check)."""
    compact = _all_digits(value, 11)
    if compact is None or int(compact[:9]) <= 1001998:
        return False
    return ru_snils_check_digits(compact[:9]) == compact[9:]
