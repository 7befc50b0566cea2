"""PII masking: checksums, detectors in six languages, look-alikes left alone, stable reversible placeholders,
encrypted mappings, the redact pipeline step and ``triage redact``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from triage.config import TriageConfig
from triage.errors import TriageError
from triage.pii import PiiMapping, Redactor, RedactStep, generate_key, unmask
from triage.pii import checksums as cs
from triage.pipeline import Triager

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def found(redactor: Redactor, text: str) -> list[tuple[str, str]]:
    return [(e.type, e.text) for e in redactor.find(text)]


# --- checksums ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "valid", "invalid"),
    [
        (cs.iban_valid, "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01"),
        (cs.iban_valid, "HU42117730161111101800000000", "HU42117730161111101800000001"),
        (cs.iban_valid, "GB82WEST12345698765432", "GB82WEST1234569876543"),  # wrong length
        (cs.luhn_valid, "4111 1111 1111 1111", "4111 1111 1111 1112"),
        (cs.taj_valid, "123 456 788", "123 456 789"),
        (cs.hu_tax_id_valid, "8123456786", "8123456780"),
        (cs.hu_bank_account_valid, "11773016-11111018-00000000", "11773016-11111019-00000000"),
        (cs.de_tax_id_valid, "86095742719", "86095742718"),
        (cs.ru_inn_valid, "7707083893", "7707083894"),
        (cs.ru_inn_valid, "500100732259", "500100732258"),
        (cs.ru_snils_valid, "112-233-445 95", "112-233-445 96"),
    ],
)
def test_checksums_accept_valid_and_reject_one_digit_changes(check, valid, invalid) -> None:
    assert check(valid)
    assert not check(invalid)


def test_check_digit_helpers_build_valid_numbers() -> None:
    assert cs.iban_valid("DE" + cs.iban_check_digits("DE", "370400440532013000") + "370400440532013000")
    assert cs.luhn_valid("411111111111111" + cs.luhn_check_digit("411111111111111"))
    assert cs.taj_valid("12345678" + cs.taj_check_digit("12345678"))
    assert cs.ru_snils_valid("112233445" + cs.ru_snils_check_digits("112233445"))
    assert cs.ru_inn_valid("770708389" + cs.ru_inn_check_digits("770708389"))
    assert cs.de_tax_id_valid("8609574271" + cs.de_tax_id_check_digit("8609574271"))


# --- detectors, per language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Call me on +44 7911 123456 or (415) 823-4567.",
            [("PHONE", "+44 7911 123456"), ("PHONE", "(415) 823-4567")],
        ),
        (
            "Rufen Sie mich unter 0171 2345678 oder +49 (0)30 12345678 an.",
            [("PHONE", "0171 2345678"), ("PHONE", "+49 (0)30 12345678")],
        ),
        (
            "Hívjon a 06 30 123 4567 számon vagy a +36 1 234 5678 számon.",
            [("PHONE", "06 30 123 4567"), ("PHONE", "+36 1 234 5678")],
        ),
        (
            "Мой телефон 8 (916) 123-45-67, рабочий +7 495 123-45-67.",
            [("PHONE", "8 (916) 123-45-67"), ("PHONE", "+7 495 123-45-67")],
        ),
        (
            "Appelez le 01 23 45 67 89 ou le 06.12.34.56.78.",
            [("PHONE", "01 23 45 67 89"), ("PHONE", "06.12.34.56.78")],
        ),
        (
            "Llámeme al 612 345 678 o al +34 91 123 45 67.",
            [("PHONE", "612 345 678"), ("PHONE", "+34 91 123 45 67")],
        ),
    ],
)
def test_phones_in_national_and_international_formats(redactor: Redactor, text: str, expected) -> None:
    assert found(redactor, text) == expected


def test_numbers_that_are_not_phones_are_left_alone(redactor: Redactor) -> None:
    text = (
        "Order 12345678 from 15.03.2024 for 1.234,56 EUR, invoice 2024-000123, version 10.0.19045.2965, "
        "tracking 00340434161094042557, Rechnungsnummer 0301234567, 3.14159, 1 234 567 Ft."
    )
    assert found(redactor, text) == []


def test_iban_card_and_ids_valid_masked_invalid_left_alone(redactor: Redactor) -> None:
    text = (
        "IBAN DE89 3704 0044 0532 0130 00, alt: DE89 3704 0044 0532 0130 01. "
        "Karte 4111 1111 1111 1111, nicht 4111 1111 1111 1112. TAJ: 123 456 788, régi TAJ: 123 456 789. "
        "ИНН 500100732259, неверный ИНН 500100732258, СНИЛС 112-233-445 95 и 112-233-445 96. "
        "Steuer-ID 86095742719 (falsch: Steuer-ID 86095742718), adóazonosító jel: 8123456786."
    )
    got = found(redactor, text)
    assert got == [
        ("IBAN", "DE89 3704 0044 0532 0130 00"),
        ("CARD", "4111 1111 1111 1111"),
        ("HU_TAJ", "123 456 788"),
        ("RU_INN", "500100732259"),
        ("RU_SNILS", "112-233-445 95"),
        ("DE_TAX_ID", "86095742719"),
        ("HU_TAX_ID", "8123456786"),
    ]


def test_emails_urls_ips_passwords(redactor: Redactor) -> None:
    text = (
        "Mail anna.kovacs@example.hu or max(at)firma.de. "
        "Reset: https://x.example.com/reset?token=abc123DEF456ghi "
        "and ftp://bob:s3cret@files.example.org/a. Server 192.168.1.10 / 2001:db8::8a2e:370:7334, "
        "build 10.0.1.2 is fine. Mein Passwort: Sommer2024!"
    )
    assert found(redactor, text) == [
        ("EMAIL", "anna.kovacs@example.hu"),
        ("EMAIL", "max(at)firma.de"),
        ("URL_SECRET", "abc123DEF456ghi"),
        ("URL_SECRET", "bob:s3cret"),
        ("IP", "192.168.1.10"),
        ("IP", "2001:db8::8a2e:370:7334"),
        ("PASSWORD", "Sommer2024"),
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Dear Emily Carter,\nthe invoice is wrong.", ["Emily Carter"]),
        (
            "Sehr geehrter Herr Dr. Müller,\nbitte prüfen.\nMit freundlichen Grüßen\nMax Mustermann",
            ["Müller", "Max Mustermann"],
        ),
        ("Kedves Kovács János!\nNem működik.\nÜdvözlettel:\nNagy Anna", ["Kovács János", "Nagy Anna"]),
        (
            "Уважаемый Иван Петрович!\nНе работает.\nС уважением,\nОльга Смирнова",
            ["Иван Петрович", "Ольга Смирнова"],
        ),
        ("Bonjour Marie,\nça ne marche pas. Cordialement, Julien Dubois", ["Marie", "Julien Dubois"]),
        ("Hola Juan, no funciona.\nMe llamo Lucía García.", ["Juan", "Lucía García"]),
    ],
)
def test_names_after_salutations_closings_and_introductions(redactor: Redactor, text: str, names) -> None:
    assert [t for kind, t in found(redactor, text) if kind == "PERSON"] == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Прошу вернуть деньги, с уважением, Мария Кузнецова", ["Мария Кузнецова"]),
        ("Спасибо за помощь! С уважением, Алексей Смирнов", ["Алексей Смирнов"]),
        ("Danke für die Hilfe, viele Grüße, Jürgen Weiß", ["Jürgen Weiß"]),
        ("Espero su respuesta. Saludos cordiales, José Luis Fernández", ["José Luis Fernández"]),
        ("Jó napot! Szabó Éva vagyok, a rendelésemről írok.", ["Szabó Éva"]),
        ("Köszönöm, Kiss Bence vagyok.", ["Kiss Bence"]),
        ("Kedves Nagy Úr! A csomag sérült.", ["Nagy"]),
        ("Der Drucker geht nicht.\n\n-- \nStefan Braun\nMünchen", ["Stefan Braun"]),
        ("Call me, whichever works. Best,\nSarah", ["Sarah"]),
    ],
)
def test_names_found_by_the_leak_probe(redactor: Redactor, text: str, names) -> None:
    """Issue 20 item 7: closings on the name's line, Hungarian "X Y vagyok", "Úr", the "-- " delimiter."""
    assert [t for kind, t in found(redactor, text) if kind == "PERSON"] == names


def test_everyday_phrases_near_the_new_name_cues_are_not_names(redactor: Redactor) -> None:
    for text in [
        "It works now, thanks, Windows Update",
        "Biztos vagyok benne, hogy rossz a számla.",
        "Nem tudom, hol vagyok.",
        "-- Original Message --\nFrom: support",
        "--\nSent from my iPhone",
    ]:
        assert [e for e in redactor.find(text) if e.type == "PERSON"] == [], text


def test_emails_with_apostrophes_and_quotes(redactor: Redactor) -> None:
    text = "Write to anna_maria.o'neil@x.de, 'bob@example.com' or jean-luc.d'artagnan@orange.fr."
    assert found(redactor, text) == [
        ("EMAIL", "anna_maria.o'neil@x.de"),
        ("EMAIL", "bob@example.com"),
        ("EMAIL", "jean-luc.d'artagnan@orange.fr"),
    ]
    assert found(redactor, "Tagsüber unter 030 / 123 456 78.") == [("PHONE", "030 / 123 456 78")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to anna\u200b@example.com now", [("EMAIL", "anna\u200b@example.com")]),
        ("Write to anna&#64;example.com now", [("EMAIL", "anna&#64;example.com")]),
        ("Schreiben Sie an ｍａｒｉａ＠example.com", [("EMAIL", "ｍａｒｉａ＠example.com")]),
        ("Tel: +36\u00a030\u00a0123\u00a04567.", [("PHONE", "+36\u00a030\u00a0123\u00a04567")]),
        ("Tel.&nbsp;+36&nbsp;30&nbsp;123&nbsp;4567", [("PHONE", "+36&nbsp;30&nbsp;123&nbsp;4567")]),
        ("Handy 0171\u20112345678", [("PHONE", "0171\u20112345678")]),
        ("Mit freundlichen Grüßen, Ju\u0308rgen Weiß", [("PERSON", "Ju\u0308rgen Weiß")]),
        ("<p>It is wrong.</p><p>Best regards,</p><p>Anna Kovács</p>", [("PERSON", "Anna Kovács")]),
        (
            '<a href="mailto:bob@example.com">bob@example.com</a>',
            [("EMAIL", "bob@example.com"), ("EMAIL", "bob@example.com")],
        ),
    ],
)
def test_values_hidden_by_entities_and_markup(redactor: Redactor, text: str, expected: list) -> None:
    """The detectors see a folded view; the spans (and so the mapping) are the text as written."""
    masked = redactor.redact(text)
    assert [(e.type, e.text) for e in masked.entities] == expected
    assert unmask(masked.text, masked.mapping) == text


def test_a_value_found_in_one_text_is_masked_in_the_other_texts_of_the_ticket(redactor: Redactor) -> None:
    mapping = PiiMapping()
    assert redactor.redact("Best regards,\nAnna Kovács", mapping).text == "Best regards,\n<PERSON_1>"
    subject = redactor.redact("Anna Kovács: invoice wrong (Annabelle cc)", mapping)
    assert subject.text == "<PERSON_1>: invoice wrong (Annabelle cc)"
    assert unmask(subject.text, mapping) == "Anna Kovács: invoice wrong (Annabelle cc)"


def test_generic_salutations_are_not_names(redactor: Redactor) -> None:
    for text in [
        "Dear Customer Service,\nhelp.",
        "Sehr geehrte Damen und Herren,\nhallo.",
        "Tisztelt Ügyfélszolgálat!",
        "Hello, Thanks for the quick reply.",
        "Добрый день, Подскажите пожалуйста.",
        "Hola equipo,",
        "Best regards,\nSent from my iPhone",
    ]:
        assert [e for e in redactor.find(text) if e.type == "PERSON"] == [], text


def test_addresses(redactor: Redactor) -> None:
    for text, address in [
        ("Lieferadresse: Hauptstraße 12, 10115 Berlin.", "Hauptstraße 12, 10115 Berlin"),
        ("Cím: 1051 Budapest, Nádor utca 12.", "1051 Budapest, Nádor utca 12."),
        ("Adresse : 12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris"),
        ("Dirección: Calle Mayor 10, 28013 Madrid", "Calle Mayor 10, 28013 Madrid"),
        ("Адрес: г. Москва, ул. Тверская, д. 7, кв. 12", "г. Москва, ул. Тверская, д. 7, кв. 12"),
        ("Ship to 221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
    ]:
        assert found(redactor, text) == [("ADDRESS", address)], text


def test_types_option_limits_what_is_masked() -> None:
    only_email = Redactor(["EMAIL"])
    assert found(only_email, "a@example.com +36 30 123 4567") == [("EMAIL", "a@example.com")]
    with pytest.raises(ValueError, match="unknown PII types"):
        Redactor(["SSN"])


def test_phone_heuristics_work_without_phonenumbers() -> None:
    heuristic = Redactor(phone_library=False)
    assert not heuristic.phone.use_library
    text = (
        "Tel. +36 30 123 4567, 0171 2345678, 8 (916) 123-45-67, 01 23 45 67 89, 612 345 678, (415) 823-4567"
    )
    assert [k for k, _ in found(heuristic, text)] == ["PHONE"] * 6


# --- placeholders and mappings ------------------------------------------------------------------------------


def test_placeholders_typed_stable_and_reversible(redactor: Redactor) -> None:
    text = (
        "Mail a.b@example.com, then A.B@example.com again; call +36 30 123 4567 or 06 30 123 4567, "
        "c@example.org."
    )
    masked = redactor.redact(text + " Again: a.b@example.com")
    assert masked.text == (
        "Mail <EMAIL_1>, then <EMAIL_2> again; call <PHONE_1> or <PHONE_2>, <EMAIL_3>. Again: <EMAIL_1>"
    )
    assert unmask(masked.text, masked.mapping) == text + " Again: a.b@example.com"  # every spelling back
    assert masked.counts == {"EMAIL": 4, "PHONE": 2}
    assert "a.b@example.com" not in repr(masked.mapping)
    assert (
        unmask("Reply to <EMAIL_3>, not <EMAIL_9>", masked.mapping) == "Reply to c@example.org, not <EMAIL_9>"
    )
    # one mapping across the texts of a ticket keeps the numbering going
    second = redactor.redact("Also d@example.net and a.b@example.com", masked.mapping)
    assert second.text == "Also <EMAIL_4> and <EMAIL_1>"


def test_mapping_encrypts_with_key_and_passphrase(redactor: Redactor) -> None:
    masked = redactor.redact("IBAN DE89 3704 0044 0532 0130 00, mail x@example.com")
    for key in (generate_key(), "correct horse battery staple"):
        token = masked.mapping.encrypt(key)
        assert "example.com" not in token and "3704" not in token
        restored = PiiMapping.decrypt(token, key)
        assert unmask(masked.text, restored) == "IBAN DE89 3704 0044 0532 0130 00, mail x@example.com"
        with pytest.raises(TriageError, match="wrong key"):
            PiiMapping.decrypt(token, generate_key() if len(key) == 44 else "wrong passphrase")
    token = masked.mapping.encrypt(generate_key())
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(TriageError):
        PiiMapping.decrypt(tampered, generate_key())


def test_bad_input_is_a_clear_error(redactor: Redactor) -> None:
    with pytest.raises(TypeError, match="must be str"):
        redactor.find(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_chars"):
        Redactor(max_chars=10).find("x" * 11)
    assert redactor.redact("").text == ""


# --- the pipeline step --------------------------------------------------------------------------------------


class TinyEncoder:
    """A deterministic stand-in for the e5 encoder: records what it was asked to encode."""

    name = "tiny"
    dim = 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, *, kind="query", batch_size=32) -> np.ndarray:
        self.seen.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, hash(text) % self.dim] = 1.0
        return out


TICKET = {
    "id": "T-1",
    "subject": "Refund to DE89 3704 0044 0532 0130 00",
    "body": "Kedves Ügyfélszolgálat!\nHívjanak a +36 30 123 4567 számon, e-mail: kiss.anna@example.hu\n"
    "Üdvözlettel:\nKiss Anna",
    "messages": [
        {"role": "customer", "text": "Az új számom 06 30 765 4321."},
        {"role": "agent", "text": "Dear Anna, we wrote to kiss.anna@example.hu."},
    ],
    "customer_email": "kiss.anna@example.hu",
}
RAW_VALUES = ["3704 0044", "123 4567", "kiss.anna@example.hu", "765 4321", "Kiss Anna"]


def _triager(*, language: bool = False, **redact_options) -> tuple[Triager, TinyEncoder]:
    encoder = TinyEncoder()
    steps = ["normalize", "language", "encode"] if language else ["normalize", "encode"]
    config = TriageConfig(steps=steps, redact=True, options={"redact": redact_options})
    return Triager(config, encoder=encoder), encoder


def test_config_redact_inserts_step_after_normalize() -> None:
    assert TriageConfig(steps=["normalize", "language", "encode"], redact=True).steps == [
        "normalize",
        "redact",
        "language",
        "encode",
    ]
    assert "redact" not in TriageConfig(steps=["normalize", "language"]).steps


def test_redact_step_masks_before_encoding_and_results_hold_no_raw_values() -> None:
    triager, encoder = _triager(language=True)
    result = triager(TICKET)
    assert result.ok, result.errors
    assert result.redactions == {"IBAN": 1, "PHONE": 2, "EMAIL": 1, "PERSON": 2}
    assert encoder.seen and all(raw not in text for text in encoder.seen for raw in RAW_VALUES)
    dumped = result.model_dump_json()
    assert all(raw not in dumped for raw in RAW_VALUES)
    assert result.redaction_mapping is None and result.redaction_vault is None
    assert result.language == "hu"


def test_redact_step_masks_the_ticket_later_steps_read() -> None:
    triager, _ = _triager()
    seen = {}

    class Spy:
        name, requires = "spy", ("normalize",)

        def run(self, states) -> None:
            seen["state"] = states[0]

    triager.steps.append(Spy())  # a later step, as a component would be
    triager(TICKET)
    state = seen["state"]
    everything = (
        json.dumps(state.ticket.model_dump(mode="json"), ensure_ascii=False)
        + state.text
        + "".join(state.message_texts)
    )
    assert all(raw not in everything for raw in RAW_VALUES)
    assert state.ticket.customer_id == "<EMAIL_1>" and "<PHONE_2>" in state.message_texts[0]
    assert state.ticket.id == "T-1" and TICKET["customer_email"] == "kiss.anna@example.hu"  # input untouched


def test_keep_mapping_in_memory_is_never_serialised() -> None:
    triager, _ = _triager(keep_mapping="memory")
    result = triager(TICKET)
    assert result.redaction_mapping is not None
    assert result.redaction_mapping["<EMAIL_1>"] == "kiss.anna@example.hu"
    assert "kiss.anna" not in result.model_dump_json() and "redaction_mapping" not in result.model_dump()


def test_keep_mapping_encrypted_round_trips(monkeypatch) -> None:
    key = generate_key()
    monkeypatch.setenv("TRIAGE_PII_KEY", key)
    triager, _ = _triager(keep_mapping="encrypted")
    result = triager(TICKET)
    mapping = PiiMapping.decrypt(result.redaction_vault, key)
    assert (
        unmask("<PERSON_1>: <PHONE_1>, <IBAN_1>", mapping)
        == "Anna: +36 30 123 4567, DE89 3704 0044 0532 0130 00"
    )
    with pytest.raises(TriageError, match="wrong key"):
        PiiMapping.decrypt(result.redaction_vault, generate_key())


def test_encrypted_without_key_and_bad_options_are_clear_errors(monkeypatch) -> None:
    monkeypatch.delenv("TRIAGE_PII_KEY", raising=False)
    with pytest.raises(TriageError, match="needs a key"):
        RedactStep(keep_mapping="encrypted")
    with pytest.raises(TriageError, match="keep_mapping"):
        RedactStep(keep_mapping="disk")
    with pytest.raises(TriageError, match="unknown redact options"):
        RedactStep(kep_mapping="memory")


def test_redact_fails_closed(monkeypatch) -> None:
    triager, encoder = _triager()

    def boom(self, text, mapping=None):
        raise RuntimeError("detector bug")

    monkeypatch.setattr(Redactor, "redact", boom)
    results = triager([TICKET, {"id": "T-2", "body": "call 0171 2345678"}])
    for result in results:
        assert [e.step for e in result.errors] == ["redact"]
        assert "withheld" in result.errors[0].message
    assert all(raw not in text for text in encoder.seen for raw in [*RAW_VALUES, "2345678"])


# --- CLI ----------------------------------------------------------------------------------------------------


def test_cli_redact_jsonl_with_vault_and_row_errors(tmp_path: Path, monkeypatch) -> None:
    from triage.cli import app

    key = generate_key()
    monkeypatch.setenv("TRIAGE_PII_KEY", key)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(TICKET, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = CliRunner().invoke(app, ["redact", str(source), "-o", str(out), "--keep-mapping"])
    assert run.exit_code == 0, run.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 and rows[0]["id"] == "T-1"
    text = out.read_text(encoding="utf-8")
    assert all(raw not in text for raw in RAW_VALUES)
    mapping = PiiMapping.decrypt(rows[0]["redaction_vault"], key)
    assert unmask(rows[0]["customer_email"], mapping) == "kiss.anna@example.hu"
    errors = (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8")
    assert '"row": 2' in errors


def test_cli_redact_text_file_and_missing_key(tmp_path: Path, monkeypatch) -> None:
    from triage.cli import app

    source = tmp_path / "note.txt"
    source.write_bytes(b"Tel: +49 171 2345678 " + b"\xff\xfe invalid UTF-8")
    out = tmp_path / "note.masked.txt"
    run = CliRunner().invoke(app, ["redact", str(source), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert out.read_text(encoding="utf-8").startswith("Tel: <PHONE_1>")
    monkeypatch.delenv("TRIAGE_PII_KEY", raising=False)
    run = CliRunner().invoke(app, ["redact", str(source), "-o", str(out), "--keep-mapping"])
    assert run.exit_code == 2 and "TRIAGE_PII_KEY" in run.output


# --- the benchmark's labelled data --------------------------------------------------------------------------


def test_labelled_set_is_big_enough_and_consistent() -> None:
    rows = [
        json.loads(line)
        for line in (REPO / "benchmarks" / "data" / "pii_snippets.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert len(rows) >= 300
    assert {r["language"] for r in rows} == {"en", "de", "hu", "ru", "fr", "es"}
    validators = {
        "IBAN": cs.iban_valid,
        "CARD": cs.luhn_valid,
        "HU_TAJ": cs.taj_valid,
        "RU_INN": cs.ru_inn_valid,
        "RU_SNILS": cs.ru_snils_valid,
        "DE_TAX_ID": cs.de_tax_id_valid,
    }
    decoys = 0
    for row in rows:
        for ent in row["entities"] + row["decoys"]:
            assert row["text"][ent["start"] : ent["end"]] == ent["text"]
        for ent in row["entities"]:
            if ent["type"] in validators:
                assert validators[ent["type"]](ent["text"]), ent
        for ent in row["decoys"]:
            decoys += 1
            if ent["type"] in validators:
                assert not validators[ent["type"]](ent["text"]), ent
    assert decoys >= 50


def test_name_finder_lexicons_are_consistent_with_the_language_modules() -> None:
    """The PII-only lists in triage.lang refine the shared ones: each names members of the list it refines."""
    from triage import lang
    from triage.pii.names import NAME_LANGUAGES

    for code in NAME_LANGUAGES:
        module = lang.module(code)
        closings = {*module.CLOSINGS, *getattr(module, "WEAK_CLOSINGS", ()), *module.THANKS}
        assert module.PII_SKIPPED_CLOSINGS <= closings, code
        assert module.EVERYDAY_CLOSINGS <= closings - module.PII_SKIPPED_CLOSINGS, code
        assert set(getattr(module, "AMBIGUOUS_INTRODUCTIONS", ())) <= set(module.INTRODUCTIONS), code
        assert set(getattr(module, "LOWERCASE_TITLES", ())) <= set(getattr(module, "TITLES", ())), code
