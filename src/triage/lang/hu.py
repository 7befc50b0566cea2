"""Hungarian: greetings, sign-offs, stop words and cue lexicons (data only)."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Greetings and introductions
# --------------------------------------------------------------------------------------------------

#: Greetings that open a message ("Kedves Anna!"): the summariser's boilerplate test and the PII name finder.
GREETINGS: tuple[str, ...] = ("kedves", "tisztelt", "szia", "sziasztok", "helló", "hello", "jó napot", "üdv")
#: More greetings only the summariser counts (set phrases no name follows).
SUMMARY_GREETINGS: tuple[str, ...] = ("tisztelt hölgyem", "tisztelt uram", "tisztelt cím", "jó napot kívánok")
#: Self-introductions before a name ("A nevem Kiss Anna"; regex fragments).
INTRODUCTIONS: tuple[str, ...] = ("a nevem", "nevem", "az én nevem", "aláírás")

# --------------------------------------------------------------------------------------------------
# Sign-offs
# --------------------------------------------------------------------------------------------------

#: Unambiguous closing phrases; a short name may follow on the same line.
CLOSINGS: tuple[str, ...] = (
    "üdvözlettel",
    "tisztelettel",
    "baráti üdvözlettel",
    "szívélyes üdvözlettel",
    "köszönettel",
)
#: Short closings that are ordinary words too: a closing only alone or before punctuation.
WEAK_CLOSINGS: tuple[str, ...] = ("üdv", "üdvözlet")
#: Thank-you lines that close a message when they stand alone.
THANKS: tuple[str, ...] = ("köszönöm", "köszi", "előre is köszönöm")
#: Closings above that the PII name finder does not take to open a signature (it never has).
PII_SKIPPED_CLOSINGS: frozenset[str] = frozenset(
    {"előre is köszönöm", "köszi", "szívélyes üdvözlettel", "üdvözlet"}
)
#: Closings that are everyday words too: after a comma they open no signature.
EVERYDAY_CLOSINGS: frozenset[str] = frozenset({"köszönöm", "üdv"})
#: "Az iPhone-ról küldve" lines (regex fragments).
MOBILE_SIGN_OFFS: tuple[str, ...] = (
    "az? .{1,30}(?:ról|ről) küldve",
    "küldve (?:az? )?.{1,30}(?:ról|ről)$",
)

# --------------------------------------------------------------------------------------------------
# Stop words
# --------------------------------------------------------------------------------------------------

#: Capitalised words that are never a person's name after a salutation or closing ("Tisztelt Ügyfél").
NAME_STOPWORDS: frozenset[str] = frozenset(
    {
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
        "a",
        "az",
        "egy",
        "nem",
        "már",
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
        "felhasználónk",
        "vásárlónk",
        "előfizetőnk",
        "ma",
    }
)

# --------------------------------------------------------------------------------------------------
# Summariser cues (phrases; "*" stands for any word ending)
# --------------------------------------------------------------------------------------------------

SUMMARY_CUES: dict[str, tuple[str, ...]] = {
    "thanks": ("köszönöm", "köszi", "köszönjük", "üdvözlettel", "tisztelettel", "előre is köszönöm"),
    "pleasantry": ("sajnáljuk", "elnézést"),
    "problem": (
        "nem működik",
        "nem tudok",
        "nem tudom",
        "hiba",
        "hibás",
        "probléma",
        "nem érkezett",
        "elromlott",
        "nem jön",
        "nem megy",
        "rossz",
    ),
    "request": (
        "kérem",
        "kérném",
        "kérek",
        "szeretném",
        "szeretnék",
        "segítsen",
        "segítsenek",
        "hogyan",
        "mikor",
        "visszatérítés",
        "lemondani",
    ),
    "tried": (
        "próbáltam",
        "megpróbáltam",
        "már",
        "újraindítottam",
        "újratelepítettem",
        "töröltem",
        "frissítettem",
    ),
    "status": ("megoldva", "javítva", "visszatérítettük", "elküldtük", "továbbítottuk"),
}

# --------------------------------------------------------------------------------------------------
# Escalation cues (regular-expression fragments, matched case-insensitively at word boundaries)
# --------------------------------------------------------------------------------------------------

#: Words that negate the cue right after them ("nem sürgős").
NEGATIONS: tuple[str, ...] = ("nem", "ne")

SENTIMENT_CUES: dict[str, tuple[str, ...]] = {
    "urgency": (
        r"sürgős\w*",
        r"azonnal\w*",
        r"minél előbb",
        r"mielőbb",
        r"amilyen gyorsan csak lehet",
        r"haladéktalanul",
        r"kritikus\w*",
        r"vészhelyzet\w*",
    ),
    "repeat_contact": (
        r"másodszor",
        r"harmadszor",
        r"negyedszer",
        r"ötödször",
        r"sokadszor",
        r"ki tudja hányadszor",
        r"hányadszor",
        r"megint",
        r"már (?:többször|kétszer|háromszor|sokszor|ismét)",
        r"még mindig",
        r"hányszor",
    ),
    "deadline": (
        r"holnapig",
        r"ma estig",
        r"mára",
        r"határid\w*",
        r"legkésőbb",
        r"a hét végéig",
        r"hó végéig",
        r"(?:hétfő|kedd|szerdá|csütörtök|péntek)ig",
        r"\d+ órán belül",
    ),
    "money": (
        r"visszatérít\w*",
        r"kétszer (?:vonták le|terheltek|terhelték|levonták|fizettem)",
        r"pénzem\w*",
        r"pénzt? vissza",
        r"(?:bevételt|ügyfeleket|pénzt) veszít\w*",
        r"kár\w* szenved\w*",
    ),
    "churn": (
        r"felmond\w*",
        r"lemondom az? (?:előfizetés\w*|szerződés\w*|szolgáltatás\w*)",
        r"(?:szolgáltatót|szolgáltatóhoz) vált\w*",
        r"más(?:ik)? szolgáltató\w*",
        r"soha többé",
        r"a konkurenciához",
        r"megszüntet\w* (?:a )?(?:szerződés\w*|előfizetés\w*|fiókom\w*)",
    ),
    "legal": (
        r"ügyvéd\w*",
        r"jogi (?:lépés\w*|út\w*|eljárás\w*)",
        r"bíróság\w*",
        r"bepereln?\w*",
        r"perel\w*",
        r"feljelent\w*",
        r"fogyasztóvéd\w*",
        r"békéltető",
    ),
    "outage": (
        r"nem működ\w*",
        r"nem megy",
        r"leállt",
        r"nem elérhető",
        r"elérhetetlen",
        r"összeomlott",
        r"nem tudok (?:belépni|bejelentkezni|csatlakozni)",
        r"nincs (?:internet|net|szolgáltatás)",
        r"lefagy\w*",
        r"üzemzavar\w*",
    ),
    "frustration": (
        r"elfogadhatatlan\w*",
        r"felháborító\w*",
        r"nevetséges\w*",
        r"botrány\w*",
        r"elegem van",
        r"tűrhetetlen\w*",
        r"katasztrófa\w*",
        r"átverés\w*",
        r"csalás\w*",
        r"csalók?",
        r"dühös\w*",
        r"csalódott\w*",
        r"szégyen\w*",
        r"pofátlan\w*",
        r"borzalmas\w*",
        r"használhatatlan\w*",
    ),
}
