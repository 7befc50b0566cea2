"""Phone numbers: whether a number written in a text is one, with libphonenumber's metadata or a format
heuristic per country."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["PhoneValidator"]


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
