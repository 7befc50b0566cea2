"""Portuguese: greetings and cue lexicons (data only)."""

from __future__ import annotations

#: Greetings that open a message ("Olá Ana,").
GREETINGS: tuple[str, ...] = (
    "prezados senhores",
    "olá",
    "oi",
    "bom dia",
    "boa tarde",
    "boa noite",
    "prezado",
    "prezada",
    "caro",
    "cara",
)

# --------------------------------------------------------------------------------------------------
# Summariser cues (phrases; "*" stands for any word ending)
# --------------------------------------------------------------------------------------------------

SUMMARY_CUES: dict[str, tuple[str, ...]] = {
    "thanks": ("obrigado", "obrigada", "atenciosamente", "abraços", "valeu"),
    "pleasantry": ("desculpe",),
    "problem": (
        "não funciona",
        "não consigo",
        "erro",
        "problema",
        "não chegou",
        "quebrado",
        "não recebi",
        "bloqueado",
    ),
    "request": (
        "pode",
        "podem",
        "poderiam",
        "gostaria",
        "preciso",
        "quero",
        "como",
        "quando",
        "reembolso",
        "cancelar",
    ),
    "tried": ("tentei", "já tentei", "reiniciei", "reinstalei", "limpei", "atualizei"),
    "status": ("resolvido", "corrigido", "reembolsado", "enviado", "encaminhado"),
}

# --------------------------------------------------------------------------------------------------
# Escalation cues (regular-expression fragments, matched case-insensitively at word boundaries)
# --------------------------------------------------------------------------------------------------

WEEKDAYS = r"segunda|terça|terca|quarta|quinta|sexta|sábado|sabado|domingo"
#: Words that negate the cue right after them ("não é urgente", "sem pressa").
NEGATIONS: tuple[str, ...] = ("não", "nao", "sem")

SENTIMENT_CUES: dict[str, tuple[str, ...]] = {
    "urgency": (
        r"urgente\w*",
        r"urgência",
        r"imediatamente",
        r"o mais rápido possível",
        r"o quanto antes",
        r"com urgência",
        r"sem demora",
        r"crítico",
    ),
    "repeat_contact": (
        r"(?:segunda|terceira|quarta|quinta|enésima) vez",
        r"outra vez",
        r"(?:escrevo|ligo|entro em contato|reclamo) (?:de novo|novamente)",
        r"(?:várias|muitas|três) vezes",
        r"ainda não",
        r"ainda nada",
        r"quantas vezes",
        r"mais uma vez",
    ),
    "deadline": (
        rf"até (?:amanhã|hoje|o fim|o final|{WEEKDAYS})",
        r"o prazo (?:vence|termina|acaba)\w*",
        r"data limite",
        r"no máximo até",
        r"em (?:\d+|24|48) horas",
    ),
    "money": (
        r"reembols\w*",
        r"cobrad\w* (?:duas vezes|em dobro)",
        r"meu dinheiro",
        r"estorno",
        r"(?:perdendo|perdi|perder) (?:dinheiro|clientes|vendas)",
        r"prejuízo\w*",
    ),
    "churn": (
        r"cancelar (?:minha|a) (?:assinatura|conta|contrato)",
        r"trocar de (?:operadora|fornecedor)",
        r"(?:ir|vou) para a concorrência",
        r"nunca mais",
        r"encerrar (?:minha|a) conta",
    ),
    "legal": (
        r"advogad\w*",
        r"processar",
        r"processo judicial",
        r"ação judicial",
        r"tribunal",
        r"procon",
        r"reclame aqui",
        r"justiça",
    ),
    "outage": (
        r"não funciona\w*",
        r"não está funcionando",
        r"fora do ar",
        r"(?:sistema|site|servidor|serviço|internet|app|aplicativo|conexão) caiu",
        r"não consigo (?:acessar|entrar|"
        r"conectar|logar)",
        r"instável",
        r"sem (?:serviço|conexão|internet|sinal)",
    ),
    "frustration": (
        r"inaceitável",
        r"absurd\w*",
        r"ridícul\w*",
        r"vergonh\w*",
        r"cansad[oa] de",
        r"palhaçada",
        r"péssim\w*",
        r"descaso",
        r"revoltad\w*",
        r"decepcionad\w*",
        r"inútil",
        r"desrespeito",
        r"enganad[oa]",
        r"lament[áa]vel",
    ),
}
