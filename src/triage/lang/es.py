"""Spanish: greetings, sign-offs, stop words and cue lexicons (data only)."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Greetings and introductions
# --------------------------------------------------------------------------------------------------

#: Greetings that open a message ("Hola Ana,"): the summariser's boilerplate test and the PII name finder.
GREETINGS: tuple[str, ...] = ("estimado", "estimada", "hola", "buenos días", "buenas tardes")
#: More greetings only the summariser counts (set phrases and words no name follows).
SUMMARY_GREETINGS: tuple[str, ...] = ("estimados señores", "buenas", "estimados")
#: More salutations only the PII name finder looks for a name after.
NAME_SALUTATIONS: tuple[str, ...] = ("querido", "querida", "buenas noches")
#: Self-introductions before a name ("Me llamo Ana García"; regex fragments).
INTRODUCTIONS: tuple[str, ...] = ("me llamo", "mi nombre es", "soy", "le habla")
#: The introductions that are everyday phrases too: a name after them counts only if punctuation follows.
AMBIGUOUS_INTRODUCTIONS: frozenset[str] = frozenset({"soy"})
#: Titles before a name (regex fragments, tried in this order).
TITLES: tuple[str, ...] = (
    "señor",
    "señora",
    "señorita",
    r"sr\.?",
    r"sra\.?",
    r"srta\.?",
    "don",
    "doña",
    r"dña\.?",
)
#: Titles that count written in lower case too ("el señor García").
LOWERCASE_TITLES: tuple[str, ...] = ("señor", "señora")

# --------------------------------------------------------------------------------------------------
# Sign-offs
# --------------------------------------------------------------------------------------------------

#: Unambiguous closing phrases; a short name may follow on the same line.
CLOSINGS: tuple[str, ...] = (
    "saludos",
    "saludos cordiales",
    "un saludo",
    "un cordial saludo",
    "atentamente",
    "cordialmente",
)
#: Short closings that are ordinary words too: a closing only alone or before punctuation.
WEAK_CLOSINGS: tuple[str, ...] = ("un abrazo",)
#: Thank-you lines that close a message when they stand alone.
THANKS: tuple[str, ...] = ("gracias", "muchas gracias", "gracias de antemano")
#: Closings above that the PII name finder does not take to open a signature (it never has).
PII_SKIPPED_CLOSINGS: frozenset[str] = frozenset({"gracias de antemano", "un cordial saludo"})
#: Closings that are everyday words too: after a comma they open no signature.
EVERYDAY_CLOSINGS: frozenset[str] = frozenset({"gracias", "muchas gracias"})
#: "Enviado desde mi iPhone" lines (regex fragments).
MOBILE_SIGN_OFFS: tuple[str, ...] = ("enviado desde mi", "enviado desde outlook")

# --------------------------------------------------------------------------------------------------
# Stop words
# --------------------------------------------------------------------------------------------------

#: Capitalised words that are never a person's name after a salutation or closing ("Estimado equipo").
NAME_STOPWORDS: frozenset[str] = frozenset(
    {
        "cliente",
        "clientes",
        "equipo",
        "soporte",
        "atención",
        "servicio",
        "compañeros",
        "todos",
        "señor",
        "señora",
        "señores",
        "gracias",
        "yo",
        "por",
        "favor",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "de",
        "muy",
        "buenas",
        "buenos",
        "día",
        "días",
        "usuario",
        "usuaria",
        "hoy",
    }
)

# --------------------------------------------------------------------------------------------------
# Summariser cues (phrases; "*" stands for any word ending)
# --------------------------------------------------------------------------------------------------

SUMMARY_CUES: dict[str, tuple[str, ...]] = {
    "thanks": ("gracias", "muchas gracias", "saludos", "un saludo", "atentamente"),
    "pleasantry": ("lo sentimos", "disculpa", "lamentamos"),
    "problem": (
        "no funciona",
        "no puedo",
        "error",
        "problema",
        "no ha llegado",
        "no llegó",
        "roto",
        "no recibí",
        "bloqueado",
    ),
    "request": (
        "por favor",
        "puede",
        "pueden",
        "podrían",
        "podría",
        "quiero",
        "necesito",
        "quisiera",
        "cómo",
        "cuándo",
        "reembolso",
        "cancelar",
    ),
    "tried": ("he intentado", "intenté", "probé", "ya he", "reinicié", "reinstalé", "borré", "actualicé"),
    "status": ("resuelto", "solucionado", "reembolsado", "enviado", "reenviado"),
}

# --------------------------------------------------------------------------------------------------
# Escalation cues (regular-expression fragments, matched case-insensitively at word boundaries)
# --------------------------------------------------------------------------------------------------

WEEKDAYS = r"lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo"
#: Words that negate the cue right after them ("sin prisa", "ni urgente").
NEGATIONS: tuple[str, ...] = ("sin", "ni")

SENTIMENT_CUES: dict[str, tuple[str, ...]] = {
    "urgency": (
        r"urgente\w*",
        r"urgencia",
        r"inmediatamente",
        r"de inmediato",
        r"lo antes posible",
        r"cuanto antes",
        r"lo más pronto posible",
        r"sin demora",
        r"crítico",
    ),
    "repeat_contact": (
        r"(?:segunda|tercera|cuarta|quinta|enésima) vez",
        r"otra vez",
        r"(?:escribo|llamo|contacto|reclamo) (?:de nuevo|nuevamente)",
        r"(?:varias|muchas|tres) veces",
        r"todavía no",
        r"aún no",
        r"sigo esperando",
        r"cuántas veces",
        r"una vez más",
    ),
    "deadline": (
        rf"(?:antes del?|para el) (?:mañana|fin|{WEEKDAYS})",
        r"para mañana",
        r"fecha límite",
        r"el plazo (?:vence|termina|acaba)\w*",
        r"a más tardar",
        r"en (?:las próximas )?(?:\d+|24|48) horas",
    ),
    "money": (
        r"reembols\w*",
        r"(?:cobrado|cobraron|cargaron|cobrar) (?:dos veces|doble)",
        r"mi dinero",
        r"devolución del dinero",
        r"(?:perdiendo|perdido|perder) (?:dinero|clientes|ventas)",
    ),
    "churn": (
        r"dar(?:me|nos)? de baja",
        r"(?:me|nos) (?:doy|damos|daré|daremos) de baja",
        r"cancelar (?:mi|la) (?:suscripción|cuenta|contrato)",
        r"cambiar(?:me)? de (?:compañía|proveedor|operador)",
        r"(?:irme|me voy) a la competencia",
        r"nunca más",
    ),
    "legal": (
        r"abogad\w*",
        r"demanda(?:r|ré|remos)",
        r"acciones legales",
        r"tribunal\w*",
        r"denunci\w*",
        r"oficina del consumidor",
        r"vía judicial",
    ),
    "outage": (
        r"no funciona\w*",
        r"caíd[oa]",
        r"no puedo (?:entrar|acceder|conectarme|iniciar sesión)",
        r"fuera de servicio",
        r"se cae",
        r"avería",
        r"sin (?:servicio|conexión|internet)",
    ),
    "frustration": (
        r"inaceptable",
        r"vergonzos\w*",
        r"ridícul\w*",
        r"indignant\w*",
        r"indignad\w*",
        r"hart[oa]",
        r"una vergüenza",
        r"estafa\w*",
        r"pésim\w*",
        r"lamentable",
        r"tomadura de pelo",
        r"furios\w*",
        r"decepcionad\w*",
        r"inútil\w*",
        r"desastre",
        r"absurdo",
    ),
}
