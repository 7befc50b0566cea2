"""Italian: greetings and cue lexicons (data only)."""

from __future__ import annotations

#: Greetings that open a message ("Buongiorno Marco,").
GREETINGS: tuple[str, ...] = ("gentili signori", "ciao", "buongiorno", "buonasera", "gentile", "salve")

# --------------------------------------------------------------------------------------------------
# Summariser cues (phrases; "*" stands for any word ending)
# --------------------------------------------------------------------------------------------------

SUMMARY_CUES: dict[str, tuple[str, ...]] = {
    "thanks": ("grazie", "cordiali saluti", "distinti saluti"),
    "problem": ("non funziona", "errore", "problema", "non arrivato", "rotto"),
    "request": ("per favore", "potete", "potreste", "vorrei", "ho bisogno", "come posso", "rimborso"),
    "tried": ("ho provato", "già", "riavviato", "reinstallato"),
}

# --------------------------------------------------------------------------------------------------
# Escalation cues (regular-expression fragments, matched case-insensitively at word boundaries)
# --------------------------------------------------------------------------------------------------

WEEKDAYS = r"luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica"
#: Words that negate the cue right after them ("non urgente", "senza fretta").
NEGATIONS: tuple[str, ...] = ("non", "senza")

SENTIMENT_CUES: dict[str, tuple[str, ...]] = {
    "urgency": (
        r"urgente\w*",
        r"urgenza",
        r"immediatamente",
        r"subito",
        r"al più presto",
        r"il prima possibile",
        r"quanto prima",
        r"senza indugio",
        r"critico",
    ),
    "repeat_contact": (
        r"(?:seconda|terza|quarta|quinta|ennesima) volta",
        r"(?:scrivo|chiamo|contatto) di nuovo",
        r"ancora una volta",
        r"(?:più|diverse|molte|tre) volte",
        r"ancora non",
        r"non ancora",
        r"ancora niente",
        r"quante volte",
    ),
    "deadline": (
        rf"entro (?:domani|oggi|stasera|la fine|fine|{WEEKDAYS}|\d+ ore)",
        r"in scadenza (?:oggi|domani)",
        r"al più tardi",
        r"termine ultimo",
    ),
    "money": (
        r"rimbors\w*",
        r"addebitat\w* (?:due volte|doppio)",
        r"i miei soldi",
        r"(?:perdendo|perso|perdere) (?:soldi|clienti|vendite)",
    ),
    "churn": (
        r"disd(?:ir|ic|ett)\w*",
        r"annullare l'abbonamento",
        r"cambiare (?:operatore|fornitore|gestore)",
        r"passare alla concorrenza",
        r"mai più",
        r"chiudere il (?:mio )?(?:conto|account)",
    ),
    "legal": (
        r"avvocat\w*",
        r"azion\w* legal\w*",
        r"vie legali",
        r"tribunale",
        r"denunci\w*",
        r"associazione (?:dei )?consumatori",
        r"codacons",
    ),
    "outage": (
        r"non funziona\w*",
        r"guast\w*",
        r"disservizi\w*",
        r"non riesco (?:ad accedere|a collegarmi|"
        r"a connettermi|ad entrare)",
        r"irraggiungibile",
        r"fuori servizio",
        r"bloccat\w*",
    ),
    "frustration": (
        r"inaccettabile",
        r"vergognos\w*",
        r"ridicol\w*",
        r"assurd\w*",
        r"scandalos\w*",
        r"stuf[oa]",
        r"una vergogna",
        r"truff\w*",
        r"pessim\w*",
        r"furios\w*",
        r"delus\w*",
        r"inutile",
        r"disastro\w*",
        r"indecente",
    ),
}
