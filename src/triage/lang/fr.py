"""French: greetings, sign-offs, stop words and cue lexicons (data only)."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Greetings and introductions
# --------------------------------------------------------------------------------------------------

#: Greetings that open a message ("Bonjour Anne,"): the summariser's boilerplate test and the PII name finder.
GREETINGS: tuple[str, ...] = ("cher", "chère", "bonjour", "bonsoir", "salut")
#: More greetings only the summariser counts ("Madame, Monsieur": no name follows).
SUMMARY_GREETINGS: tuple[str, ...] = ("madame, monsieur", "madame", "monsieur")
#: Self-introductions before a name ("Je m'appelle Anne Martin"; regex fragments).
INTRODUCTIONS: tuple[str, ...] = ("je m'appelle", "je m’appelle", "je suis", "mon nom est")
#: The introductions that are everyday phrases too: a name after them counts only if punctuation follows.
AMBIGUOUS_INTRODUCTIONS: frozenset[str] = frozenset({"je suis"})
#: Titles before a name (regex fragments, tried in this order).
TITLES: tuple[str, ...] = ("monsieur", "madame", "mademoiselle", r"m\.", r"mme\.?", r"mlle\.?")

# --------------------------------------------------------------------------------------------------
# Sign-offs
# --------------------------------------------------------------------------------------------------

#: Unambiguous closing phrases; a short name may follow on the same line.
CLOSINGS: tuple[str, ...] = (
    "cordialement",
    "bien cordialement",
    "très cordialement",
    "bien à vous",
    "sincères salutations",
    "meilleures salutations",
)
#: Short closings that are ordinary words too: a closing only alone or before punctuation.
WEAK_CLOSINGS: tuple[str, ...] = ("salutations", "bonne journée")
#: Thank-you lines that close a message when they stand alone.
THANKS: tuple[str, ...] = ("merci", "merci d'avance", "merci beaucoup")
#: Closings above that the PII name finder does not take to open a signature (it never has).
PII_SKIPPED_CLOSINGS: frozenset[str] = frozenset(
    {"bonne journée", "meilleures salutations", "merci beaucoup", "très cordialement"}
)
#: Closings that are everyday words too: after a comma they open no signature.
EVERYDAY_CLOSINGS: frozenset[str] = frozenset({"merci", "salutations"})
#: "Envoyé de mon iPhone" lines (regex fragments).
MOBILE_SIGN_OFFS: tuple[str, ...] = ("envoyé de mon", "envoyé depuis mon")

# --------------------------------------------------------------------------------------------------
# Stop words
# --------------------------------------------------------------------------------------------------

#: Capitalised words that are never a person's name after a salutation or closing ("Chère équipe").
NAME_STOPWORDS: frozenset[str] = frozenset(
    {
        "madame",
        "monsieur",
        "messieurs",
        "mesdames",
        "équipe",
        "client",
        "clients",
        "service",
        "collègues",
        "tous",
        "à",
        "merci",
        "je",
        "nous",
        "le",
        "la",
        "les",
        "un",
        "une",
        "de",
        "votre",
        "abonné",
        "utilisateur",
        "aujourd'hui",
    }
)

# --------------------------------------------------------------------------------------------------
# Summariser cues (phrases; "*" stands for any word ending)
# --------------------------------------------------------------------------------------------------

SUMMARY_CUES: dict[str, tuple[str, ...]] = {
    "thanks": ("merci", "merci beaucoup", "cordialement", "bien à vous", "bonne journée"),
    "pleasantry": ("désolé", "nous sommes désolés"),
    "problem": (
        "ne fonctionne pas",
        "ne marche pas",
        "impossible",
        "erreur",
        "problème",
        "pas reçu",
        "panne",
        "bloqué",
        "cassé",
    ),
    "request": (
        "s'il vous plaît",
        "svp",
        "pouvez-vous",
        "pourriez-vous",
        "je voudrais",
        "j'aimerais",
        "comment",
        "quand",
        "rembourser",
        "annuler",
    ),
    "tried": ("j'ai essayé", "essayé", "déjà", "redémarré", "réinstallé", "vidé", "mis à jour"),
    "status": ("résolu", "corrigé", "remboursé", "envoyé", "transmis"),
}

# --------------------------------------------------------------------------------------------------
# Escalation cues (regular-expression fragments, matched case-insensitively at word boundaries)
# --------------------------------------------------------------------------------------------------

WEEKDAYS = r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
#: Words that negate the cue right after them ("pas urgent").
NEGATIONS: tuple[str, ...] = ("pas", "non")

SENTIMENT_CUES: dict[str, tuple[str, ...]] = {
    "urgency": (
        r"urgent\w*",
        r"urgence",
        r"immédiatement",
        r"au plus vite",
        r"dès que possible",
        r"le plus rapidement possible",
        r"sans délai",
    ),
    "repeat_contact": (
        r"(?:deuxième|troisième|quatrième|cinquième|énième|nième|\d+e) fois",
        r"encore une fois",
        r"(?:plusieurs|maintes|trois) fois",
        r"toujours pas",
        r"toujours rien",
        r"combien de fois",
        r"je vous (?:ré)?écris (?:à nouveau|de nouveau|encore)",
        r"je relance\w*",
        r"une fois de plus",
    ),
    "deadline": (
        rf"(?:avant|d'ici) (?:demain|ce soir|la fin|{WEEKDAYS})",
        r"date limite",
        r"au plus tard",
        r"échéance",
        r"dans les (?:\d+|24|48) heures",
    ),
    "money": (
        r"rembours\w*",
        r"(?:débité|prélevé|facturé)e?s? (?:deux fois|en double)",
        r"mon argent",
        r"(?:perdons|perdu|perdre) (?:de l'argent|des clients|du chiffre)",
        r"surfactur\w*",
    ),
    "churn": (
        r"résili\w*",
        r"annuler mon abonnement",
        r"changer d'(?:opérateur|fournisseur)",
        r"(?:aller|passer) (?:voir )?(?:chez )?la concurrence",
        r"plus jamais",
        r"fermer mon compte",
    ),
    "legal": (
        r"avocat\w*",
        r"poursuites?(?: judiciaires)?",
        r"action en justice",
        r"tribunal",
        r"porter plainte",
        r"association de consommateurs",
        r"dgccrf",
        r"médiateur",
    ),
    "outage": (
        r"ne (?:fonctionne|marche) (?:plus|pas)",
        r"en panne",
        r"panne",
        r"inaccessible",
        r"hors service",
        r"(?:ça|ca|il|elle|tout|l'application|le site) plante",
        r"a planté",
        r"impossible de (?:me connecter|se connecter|accéder)",
        r"pas de (?:connexion|réseau|service)",
    ),
    "frustration": (
        r"inadmissible",
        r"inacceptable",
        r"scandaleu\w*",
        r"honteu\w*",
        r"ridicule",
        r"ras[- ]le[- ]bol",
        r"j'en ai marre",
        r"marre",
        r"n'importe quoi",
        r"arnaque\w*",
        r"lamentable",
        r"furieu\w*",
        r"déçu\w*",
        r"inutile",
        r"catastroph\w*",
        r"pire",
        r"énervé\w*",
    ),
}
