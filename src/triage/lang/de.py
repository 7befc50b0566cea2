"""German: greetings, sign-offs, stop words and cue lexicons (data only)."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Greetings and introductions
# --------------------------------------------------------------------------------------------------

#: Greetings that open a message ("Hallo Anna,"): the summariser's boilerplate test and the PII name finder.
GREETINGS: tuple[str, ...] = ("liebe", "lieber", "hallo", "guten tag", "guten morgen", "moin", "servus")
#: More greetings only the summariser counts (set phrases; "*" stands for any word ending).
SUMMARY_GREETINGS: tuple[str, ...] = (
    "sehr geehrte damen und herren",
    "liebes team",
    "hallo zusammen",
    "sehr geehrte*",
    "grüß gott",
)
#: More salutations only the PII name finder looks for a name after (the summariser has "sehr geehrte*").
NAME_SALUTATIONS: tuple[str, ...] = ("sehr geehrte", "sehr geehrter")
#: Self-introductions before a name ("Mein Name ist Anna Schmidt"; regex fragments).
INTRODUCTIONS: tuple[str, ...] = (
    "mein name ist",
    "ich heiße",
    "ich heisse",
    "hier ist",
    "hier spricht",
    r"gez\.",
)
#: Titles before a name (regex fragments, tried in this order).
TITLES: tuple[str, ...] = ("herr", "herrn", "frau")
#: Academic titles before a name, common in Austria ("Ing. Mayer"; regex fragments, tried in this order).
ACADEMIC_TITLES: tuple[str, ...] = (r"ing\.?", r"mag\.?", r"dipl\.-ing\.?")
#: Titles that count written in lower case too ("an herrn Müller").
LOWERCASE_TITLES: tuple[str, ...] = ("herr", "frau")

# --------------------------------------------------------------------------------------------------
# Sign-offs
# --------------------------------------------------------------------------------------------------

#: Unambiguous closing phrases; a short name may follow on the same line.
CLOSINGS: tuple[str, ...] = (
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "mit freundlichem gruß",
    "mit freundlichem gruss",
    "freundliche grüße",
    "freundliche grüsse",
    "viele grüße",
    "viele grüsse",
    "beste grüße",
    "beste grüsse",
    "liebe grüße",
    "liebe grüsse",
    "schöne grüße",
    "schöne grüsse",
    "herzliche grüße",
    "herzliche grüsse",
    "mfg",
)
#: Short closings that are ordinary words too: a closing only alone or before punctuation.
WEAK_CLOSINGS: tuple[str, ...] = ("gruß", "gruss", "grüße", "grüsse", "lg", "vg")
#: Thank-you lines that close a message when they stand alone.
THANKS: tuple[str, ...] = ("danke", "vielen dank", "danke schön")
#: Closings above that the PII name finder does not take to open a signature (it never has).
PII_SKIPPED_CLOSINGS: frozenset[str] = frozenset(
    {
        "beste grüsse",
        "danke schön",
        "freundliche grüsse",
        "gruss",
        "grüsse",
        "herzliche grüsse",
        "liebe grüsse",
        "mit freundlichem gruss",
        "mit freundlichem gruß",
        "schöne grüsse",
        "viele grüsse",
    }
)
#: Closings that are everyday words too: after a comma they open no signature.
EVERYDAY_CLOSINGS: frozenset[str] = frozenset({"danke", "vielen dank", "lg", "vg", "mfg"})
#: "Von meinem iPhone gesendet" lines (regex fragments).
MOBILE_SIGN_OFFS: tuple[str, ...] = ("von meinem .{1,40} gesendet", "gesendet von meinem")

# --------------------------------------------------------------------------------------------------
# Stop words
# --------------------------------------------------------------------------------------------------

#: Capitalised words that are never a person's name after a salutation or closing ("Liebe Kollegen").
NAME_STOPWORDS: frozenset[str] = frozenset(
    {
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
        "serviceteam",
        "ich",
        "wir",
        "bitte",
        "danke",
        "herr",
        "frau",
        "technik",
        "deutsch",
        "ist",
        "kein",
        "keine",
        "nicht",
        "bereits",
        "ihr",
        "ihre",
        "ihren",
        "nutzer",
        "nutzerin",
        "mitglied",
        "interessent",
        "tag",
        "heute",
        "entschuldigung",
    }
)

# --------------------------------------------------------------------------------------------------
# Summariser cues (phrases; "*" stands for any word ending)
# --------------------------------------------------------------------------------------------------

SUMMARY_CUES: dict[str, tuple[str, ...]] = {
    "thanks": (
        "danke",
        "vielen dank",
        "danke schön",
        "dankeschön",
        "mfg",
        "viele grüße",
        "beste grüße",
        "mit freundlichen grüßen",
        "lg",
    ),
    "pleasantry": ("es tut uns leid", "gerne geschehen"),
    "problem": (
        "funktioniert nicht",
        "geht nicht",
        "kann nicht",
        "fehler",
        "problem",
        "kaputt",
        "defekt",
        "nicht angekommen",
        "fehlt",
        "falsch",
    ),
    "request": (
        "bitte",
        "können sie",
        "könnten sie",
        "ich möchte",
        "ich brauche",
        "wie kann",
        "wann",
        "erstatten",
        "stornieren",
    ),
    "tried": (
        "versucht",
        "bereits",
        "schon",
        "neu gestartet",
        "neu installiert",
        "zurückgesetzt",
        "gelöscht",
        "aktualisiert",
    ),
    "status": ("erledigt", "behoben", "erstattet", "versendet", "storniert", "weitergeleitet"),
}

# --------------------------------------------------------------------------------------------------
# Escalation cues (regular-expression fragments, matched case-insensitively at word boundaries)
# --------------------------------------------------------------------------------------------------

WEEKDAYS = r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
#: Words that negate the cue right after them ("nicht dringend").
NEGATIONS: tuple[str, ...] = ("nicht", r"kein\w*")

SENTIMENT_CUES: dict[str, tuple[str, ...]] = {
    "urgency": (
        r"dringend\w*",
        r"sofort(?:ig\w*)?",
        r"umgehend\w*",
        r"eilig\w*",
        r"so schnell wie möglich",
        r"schnellstmöglich\w*",
        r"notfall\w*",
        r"unverzüglich\w*",
        r"kritisch\w*",
    ),
    "repeat_contact": (
        r"zum (?:wiederholten|zweiten|dritten|vierten|fünften|x-ten|zigsten) mal",
        r"schon wieder",
        r"(?:bereits|schon) (?:mehrfach|mehrmals|zweimal|dreimal|öfter)",
        r"immer noch(?: nicht| kein\w*)?",
        r"noch immer(?: nicht| kein\w*)?",
        r"wie oft noch",
    ),
    "deadline": (
        rf"bis (?:morgen|heute|spätestens|ende|{WEEKDAYS}|\d{{1,2}}(?::\d\d)? uhr)",
        r"frist(?:en|ablauf)?",
        r"deadline",
        r"spätestens",
        r"innerhalb von (?:\d+|24|48) stunden",
    ),
    "money": (
        r"rückerstattung\w*",
        r"doppelt (?:abgebucht|berechnet|belastet)",
        r"geld zurück",
        r"(?:verlieren|verloren) (?:geld|umsatz|kunden)",
        r"umsatzausfall\w*",
        r"zu viel berechnet",
    ),
    "churn": (
        r"kündig\w*",
        r"vertrag (?:beenden|auflösen)",
        r"(?:anbieter|provider) (?:zu )?wechseln",
        r"zur konkurrenz",
        r"nie wieder",
        r"konto (?:löschen|schließen)",
    ),
    "legal": (
        r"(?:rechts)?anwalt\w*",
        r"anwält\w*",
        r"rechtliche schritte",
        r"verklag\w*",
        r"klage\w*",
        r"vor gericht",
        r"gerichtlich\w*",
        r"verbraucherzentrale",
        r"verbraucherschutz\w*",
        r"schlichtungsstelle",
    ),
    "outage": (
        r"funktioniert (?:nicht|gar nicht|nicht mehr)",
        r"geht (?:nicht|gar nicht|nicht mehr)",
        r"ausgefallen",
        r"ausfall\w*",
        r"störung\w*",
        r"nicht erreichbar",
        r"abgestürzt",
        r"stürzt\w* ab",
        r"kaputt",
        r"kann mich nicht (?:anmelden|einloggen)",
        r"kein (?:internet|netz|zugang)",
    ),
    "frustration": (
        r"inakzeptabel",
        r"unakzeptabel",
        r"unverschämt\w*",
        r"lächerlich\w*",
        r"frechheit",
        r"zumutung",
        r"katastroph\w*",
        r"die nase voll",
        r"sauerei",
        r"betrug",
        r"nutzlos\w*",
        r"enttäusch\w*",
        r"wütend",
        r"ärgerlich",
        r"schlimmst\w*",
        r"skandal\w*",
    ),
}
