"""Local PII masking: typed, stable placeholders, a reversible (optionally encrypted) mapping, and the
``redact`` pipeline step.

>>> from triage.pii import Redactor
>>> Redactor()("IBAN: DE89 3704 0044 0532 0130 00").text
'IBAN: <IBAN_1>'
"""

from __future__ import annotations

from triage.pii.detectors import ALL_TYPES, Entity, PhoneValidator
from triage.pii.redactor import PLACEHOLDER_RE, PiiMapping, Redaction, Redactor, generate_key, unmask
from triage.pii.step import RedactStep

__all__ = [
    "ALL_TYPES",
    "PLACEHOLDER_RE",
    "Entity",
    "PhoneValidator",
    "PiiMapping",
    "Redaction",
    "RedactStep",
    "Redactor",
    "generate_key",
    "unmask",
]
