"""Language codes: triage speaks ISO 639-1 (``"pt"``); models use ISO 639-3 (``"por"``), NLLB/FLORES codes
(``"por_Latn"``), M2M100's ``"__pt__"`` and regional tags (``"pt-BR"``, ``"pt_br"``)."""

from __future__ import annotations

#: ISO 639-1 -> NLLB-200 / FLORES-200 code.
NLLB_CODES: dict[str, str] = {
    "af": "afr_Latn",
    "am": "amh_Ethi",
    "ar": "arb_Arab",
    "az": "azj_Latn",
    "be": "bel_Cyrl",
    "bg": "bul_Cyrl",
    "bn": "ben_Beng",
    "bs": "bos_Latn",
    "ca": "cat_Latn",
    "cs": "ces_Latn",
    "cy": "cym_Latn",
    "da": "dan_Latn",
    "de": "deu_Latn",
    "el": "ell_Grek",
    "en": "eng_Latn",
    "eo": "epo_Latn",
    "es": "spa_Latn",
    "et": "est_Latn",
    "eu": "eus_Latn",
    "fa": "pes_Arab",
    "fi": "fin_Latn",
    "fr": "fra_Latn",
    "ga": "gle_Latn",
    "gl": "glg_Latn",
    "gu": "guj_Gujr",
    "he": "heb_Hebr",
    "hi": "hin_Deva",
    "hr": "hrv_Latn",
    "hu": "hun_Latn",
    "hy": "hye_Armn",
    "id": "ind_Latn",
    "is": "isl_Latn",
    "it": "ita_Latn",
    "ja": "jpn_Jpan",
    "ka": "kat_Geor",
    "kk": "kaz_Cyrl",
    "km": "khm_Khmr",
    "kn": "kan_Knda",
    "ko": "kor_Hang",
    "lt": "lit_Latn",
    "lv": "lvs_Latn",
    "mk": "mkd_Cyrl",
    "ml": "mal_Mlym",
    "mn": "khk_Cyrl",
    "mr": "mar_Deva",
    "ms": "zsm_Latn",
    "mt": "mlt_Latn",
    "my": "mya_Mymr",
    "nb": "nob_Latn",
    "ne": "npi_Deva",
    "nl": "nld_Latn",
    "no": "nob_Latn",
    "pa": "pan_Guru",
    "pl": "pol_Latn",
    "pt": "por_Latn",
    "ro": "ron_Latn",
    "ru": "rus_Cyrl",
    "sk": "slk_Latn",
    "sl": "slv_Latn",
    "sq": "als_Latn",
    "sr": "srp_Cyrl",
    "sv": "swe_Latn",
    "sw": "swh_Latn",
    "ta": "tam_Taml",
    "te": "tel_Telu",
    "th": "tha_Thai",
    "tl": "tgl_Latn",
    "tr": "tur_Latn",
    "uk": "ukr_Cyrl",
    "ur": "urd_Arab",
    "uz": "uzn_Latn",
    "vi": "vie_Latn",
    "zh": "zho_Hans",
}
#: ISO 639-3 (and FLORES file) codes -> ISO 639-1, derived from the NLLB table plus common extras.
ISO3_TO_ISO1: dict[str, str] = {code.split("_")[0]: iso for iso, code in NLLB_CODES.items()}
ISO3_TO_ISO1.update(
    {
        "eng": "en",
        "deu": "de",
        "ger": "de",
        "fra": "fr",
        "fre": "fr",
        "spa": "es",
        "por": "pt",
        "hun": "hu",
        "rus": "ru",
        "ita": "it",
        "nld": "nl",
        "dut": "nl",
        "ara": "ar",
        "zho": "zh",
        "chi": "zh",
        "cmn": "zh",
        "nor": "no",
        "nob": "nb",
        "fas": "fa",
        "per": "fa",
        "est": "et",
        "lav": "lv",
        "msa": "ms",
        "sqi": "sq",
        "swa": "sw",
        "aze": "az",
        "uzb": "uz",
        "mon": "mn",
        "nep": "ne",
        "ces": "cs",
        "cze": "cs",
        "ell": "el",
        "gre": "el",
        "ron": "ro",
        "rum": "ro",
        "slk": "sk",
        "slo": "sk",
        "tgl": "tl",
        "fil": "tl",
        "heb": "he",
    }
)


def normalize_language(code: str) -> str:
    """ISO 639-1 code for common spellings: ``"pt-BR"``, ``"pt_br"``, ``"por"``, ``"por_Latn"``, ``"__pt__"``.

    Unknown codes are returned lower-cased without region, so callers can still compare them.
    """
    if not isinstance(code, str) or not code.strip():
        raise ValueError("language code must be a non-empty string such as 'en' or 'pt'")
    value = code.strip().strip("_").replace(">>", "").replace("<<", "")
    base = value.replace("-", "_").split("_")[0].lower()
    if len(base) == 3 and base in ISO3_TO_ISO1:
        return ISO3_TO_ISO1[base]
    return base


def nllb_code(language: str) -> str | None:
    """NLLB-200 code for an ISO language code, or ``None`` when the table has none."""
    return NLLB_CODES.get(normalize_language(language))
