"""Multilingual escalation cues: urgency, repeat contact, deadlines, money, churn, legal threats, outages,
frustration and shouting, each found with its span so an agent sees why a ticket was flagged.

The detector is a curated lexicon of anchored regular expressions (en de hu ru fr es it pt), matched on every
text whatever its detected language (tickets mix languages and short ones are hard to identify). Cue words
preceded by a negation ("not urgent", "nem sürgős", "не срочно") are dropped.

>>> [c.kind for c in detect_cues("SÜRGŐS! Harmadszor írok, a rendszer nem működik!!!")]
['urgency', 'shouting', 'repeat_contact', 'outage', 'shouting']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from triage.caseless import CaselessPattern
from triage.schema import Cue

#: Cue kinds, in the order they are documented.
CUE_KINDS: tuple[str, ...] = (
    "urgency",
    "repeat_contact",
    "deadline",
    "money",
    "churn",
    "legal",
    "outage",
    "frustration",
    "shouting",
)

_DAYS = {
    "en": r"monday|tuesday|wednesday|thursday|friday|saturday|sunday",
    "de": r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag",
    "ru": r"понедельника|вторника|среды|четверга|пятницы|субботы|воскресенья",
    "fr": r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche",
    "es": r"lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo",
    "it": r"luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica",
    "pt": r"segunda|terça|terca|quarta|quinta|sexta|sábado|sabado|domingo",
}
_NUM = r"\d+(?:[.,' ]\d+)*"
_CUR = (
    r"(?:€|\$|£|₽|eur|euros?|usd|dollars?|gbp|pounds|huf|ft|forint|rub|руб\w*|рубл\w*|chf|zł|pln|reais|r\$)"
)

#: kind -> language -> regular expressions (case-insensitive, matched with word boundaries around them).
PATTERNS: dict[str, dict[str, list[str]]] = {
    "urgency": {
        "en": [
            r"urgent(?:ly)?",
            r"asap",
            r"as soon as possible",
            r"immediately",
            r"emergency",
            r"right now",
            r"without delay",
            r"top priority",
            r"high priority",
            r"time[- ]critical",
            r"business[- ]critical",
            r"critical",
        ],
        "de": [
            r"dringend\w*",
            r"sofort(?:ig\w*)?",
            r"umgehend\w*",
            r"eilig\w*",
            r"so schnell wie möglich",
            r"schnellstmöglich\w*",
            r"notfall\w*",
            r"unverzüglich\w*",
            r"kritisch\w*",
        ],
        "hu": [
            r"sürgős\w*",
            r"azonnal\w*",
            r"minél előbb",
            r"mielőbb",
            r"amilyen gyorsan csak lehet",
            r"haladéktalanul",
            r"kritikus\w*",
            r"vészhelyzet\w*",
        ],
        "ru": [
            r"срочн\w*",
            r"немедленно",
            r"как можно (?:скорее|быстрее)",
            r"безотлагательно",
            r"экстренн\w*",
            r"критичн\w*",
            r"прямо сейчас",
        ],
        "fr": [
            r"urgent\w*",
            r"urgence",
            r"immédiatement",
            r"au plus vite",
            r"dès que possible",
            r"le plus rapidement possible",
            r"sans délai",
        ],
        "es": [
            r"urgente\w*",
            r"urgencia",
            r"inmediatamente",
            r"de inmediato",
            r"lo antes posible",
            r"cuanto antes",
            r"lo más pronto posible",
            r"sin demora",
            r"crítico",
        ],
        "it": [
            r"urgente\w*",
            r"urgenza",
            r"immediatamente",
            r"subito",
            r"al più presto",
            r"il prima possibile",
            r"quanto prima",
            r"senza indugio",
            r"critico",
        ],
        "pt": [
            r"urgente\w*",
            r"urgência",
            r"imediatamente",
            r"o mais rápido possível",
            r"o quanto antes",
            r"com urgência",
            r"sem demora",
            r"crítico",
        ],
    },
    "repeat_contact": {
        "en": [
            r"(?:second|third|fourth|fifth|sixth|umpteenth|\d+(?:st|nd|rd|th)) time",
            r"(?:several|multiple|many|three|four|five) times(?: already)?",
            r"yet again",
            r"once again",
            r"again and again",
            r"still (?:not|no|haven'?t|hasn'?t|waiting)",
            r"how many (?:more )?times",
            r"no one (?:has )?(?:replied|answered|responded|got back)",
            r"nobody (?:has )?(?:replied|answered|responded|got back|is answering)",
            r"(?:already|repeatedly) (?:reported|contacted|written|called|emailed|asked|complained)",
            r"(?:i|we) (?:have|'ve) (?:already )?(?:written|called|contacted|emailed) "
            r"(?:you )?(?:twice|before)",
        ],
        "de": [
            r"zum (?:wiederholten|zweiten|dritten|vierten|fünften|x-ten|zigsten) mal",
            r"schon wieder",
            r"(?:bereits|schon) (?:mehrfach|mehrmals|zweimal|dreimal|öfter)",
            r"immer noch(?: nicht| kein\w*)?",
            r"noch immer(?: nicht| kein\w*)?",
            r"wie oft noch",
        ],
        "hu": [
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
        ],
        "ru": [
            r"(?:уже )?(?:второй|третий|четв[её]ртый|пятый|десятый|который|n-й) раз",
            r"(?:несколько|много|три|пять) раз(?:а)?",
            r"опять",
            r"повторно",
            r"до сих пор",
            r"сколько можно",
            r"снова и снова",
            r"в очередной раз",
            r"(?:пишу|обращаюсь|звоню) (?:повторно|снова|опять)",
            r"повторн\w+ обращени\w*",
        ],
        "fr": [
            r"(?:deuxième|troisième|quatrième|cinquième|énième|nième|\d+e) fois",
            r"encore une fois",
            r"(?:plusieurs|maintes|trois) fois",
            r"toujours pas",
            r"toujours rien",
            r"combien de fois",
            r"je vous (?:ré)?écris (?:à nouveau|de nouveau|encore)",
            r"je relance\w*",
            r"une fois de plus",
        ],
        "es": [
            r"(?:segunda|tercera|cuarta|quinta|enésima) vez",
            r"otra vez",
            r"(?:escribo|llamo|contacto|reclamo) (?:de nuevo|nuevamente)",
            r"(?:varias|muchas|tres) veces",
            r"todavía no",
            r"aún no",
            r"sigo esperando",
            r"cuántas veces",
            r"una vez más",
        ],
        "it": [
            r"(?:seconda|terza|quarta|quinta|ennesima) volta",
            r"(?:scrivo|chiamo|contatto) di nuovo",
            r"ancora una volta",
            r"(?:più|diverse|molte|tre) volte",
            r"ancora non",
            r"non ancora",
            r"ancora niente",
            r"quante volte",
        ],
        "pt": [
            r"(?:segunda|terceira|quarta|quinta|enésima) vez",
            r"outra vez",
            r"(?:escrevo|ligo|entro em contato|reclamo) (?:de novo|novamente)",
            r"(?:várias|muitas|três) vezes",
            r"ainda não",
            r"ainda nada",
            r"quantas vezes",
            r"mais uma vez",
        ],
    },
    "deadline": {
        "en": [
            rf"by (?:tomorrow|today|tonight|noon|the end of (?:the )?(?:day|week|month)"
            rf"|end of (?:day|week|month)"
            rf"|{_DAYS['en']}|\d{{1,2}}(?::\d\d)?\s?(?:am|pm))",
            r"deadline",
            r"eod",
            r"before (?:tomorrow|tonight)",
            r"within (?:\d+|one|two|24|48) (?:hours?|days?)",
            r"(?:today|tomorrow) at \d{1,2}",
            r"due (?:today|tomorrow)",
            r"no later than",
        ],
        "de": [
            rf"bis (?:morgen|heute|spätestens|ende|{_DAYS['de']}|\d{{1,2}}(?::\d\d)? uhr)",
            r"frist(?:en|ablauf)?",
            r"deadline",
            r"spätestens",
            r"innerhalb von (?:\d+|24|48) stunden",
        ],
        "hu": [
            r"holnapig",
            r"ma estig",
            r"mára",
            r"határid\w*",
            r"legkésőbb",
            r"a hét végéig",
            r"hó végéig",
            r"(?:hétfő|kedd|szerdá|csütörtök|péntek)ig",
            r"\d+ órán belül",
        ],
        "ru": [
            rf"до (?:завтра|сегодня|вечера|конца (?:дня|недели|месяца)|{_DAYS['ru']})",
            r"дедлайн\w*",
            r"крайн\w+ срок\w*",
            r"не позднее",
            r"в течение (?:\d+|суток|часа)",
        ],
        "fr": [
            rf"(?:avant|d'ici) (?:demain|ce soir|la fin|{_DAYS['fr']})",
            r"date limite",
            r"au plus tard",
            r"échéance",
            r"dans les (?:\d+|24|48) heures",
        ],
        "es": [
            rf"(?:antes del?|para el) (?:mañana|fin|{_DAYS['es']})",
            r"para mañana",
            r"fecha límite",
            r"el plazo (?:vence|termina|acaba)\w*",
            r"a más tardar",
            r"en (?:las próximas )?(?:\d+|24|48) horas",
        ],
        "it": [
            rf"entro (?:domani|oggi|stasera|la fine|fine|{_DAYS['it']}|\d+ ore)",
            r"in scadenza (?:oggi|domani)",
            r"al più tardi",
            r"termine ultimo",
        ],
        "pt": [
            rf"até (?:amanhã|hoje|o fim|o final|{_DAYS['pt']})",
            r"o prazo (?:vence|termina|acaba)\w*",
            r"data limite",
            r"no máximo até",
            r"em (?:\d+|24|48) horas",
        ],
    },
    "money": {
        "all": [rf"{_CUR}\s?{_NUM}", rf"{_NUM}\s?{_CUR}"],
        "en": [
            r"refund\w*",
            r"charged (?:twice|two times|double|again|without)",
            r"double[- ]charged?",
            r"(?:losing|lost|lose) (?:money|revenue|sales|customers|business)",
            r"money back",
            r"chargeback",
            r"overcharg\w*",
        ],
        "de": [
            r"rückerstattung\w*",
            r"doppelt (?:abgebucht|berechnet|belastet)",
            r"geld zurück",
            r"(?:verlieren|verloren) (?:geld|umsatz|kunden)",
            r"umsatzausfall\w*",
            r"zu viel berechnet",
        ],
        "hu": [
            r"visszatérít\w*",
            r"kétszer (?:vonták le|terheltek|terhelték|levonták|fizettem)",
            r"pénzem\w*",
            r"pénzt? vissza",
            r"(?:bevételt|ügyfeleket|pénzt) veszít\w*",
            r"kár\w* szenved\w*",
        ],
        "ru": [
            r"возврат\w* (?:денег|средств)",
            r"(?:списали|сняли) (?:дважды|два раза)",
            r"верните (?:деньги|средства)",
            r"(?:теряем|теряю|потеряли) (?:деньги|клиентов|выручку)",
            r"убытк\w*",
            r"мои деньги",
        ],
        "fr": [
            r"rembours\w*",
            r"(?:débité|prélevé|facturé)e?s? (?:deux fois|en double)",
            r"mon argent",
            r"(?:perdons|perdu|perdre) (?:de l'argent|des clients|du chiffre)",
            r"surfactur\w*",
        ],
        "es": [
            r"reembols\w*",
            r"(?:cobrado|cobraron|cargaron|cobrar) (?:dos veces|doble)",
            r"mi dinero",
            r"devolución del dinero",
            r"(?:perdiendo|perdido|perder) (?:dinero|clientes|ventas)",
        ],
        "it": [
            r"rimbors\w*",
            r"addebitat\w* (?:due volte|doppio)",
            r"i miei soldi",
            r"(?:perdendo|perso|perdere) (?:soldi|clienti|vendite)",
        ],
        "pt": [
            r"reembols\w*",
            r"cobrad\w* (?:duas vezes|em dobro)",
            r"meu dinheiro",
            r"estorno",
            r"(?:perdendo|perdi|perder) (?:dinheiro|clientes|vendas)",
            r"prejuízo\w*",
        ],
    },
    "churn": {
        "en": [
            r"cancel(?:l?ing)? (?:my|our|the) (?:account|subscription|contract|membership|service|plan)",
            r"close (?:my|our) account",
            r"terminate (?:my|our|the) (?:contract|subscription|account)",
            r"switch(?:ing)? (?:to )?(?:another|a different|a competitor|your competitor|provider)",
            r"(?:move|moving|go|going|switch|switching) (?:over )?to (?:a |your )?competitor\w*",
            r"take (?:my|our) business elsewhere",
            r"(?:find|look for|looking for) (?:another|a new) provider",
            r"never (?:buy|order|use|shop)\w* (?:from |with )?(?:you|here|this)\w*(?: again)?",
            r"leave your service",
            r"last time i (?:use|buy|order)",
        ],
        "de": [
            r"kündig\w*",
            r"vertrag (?:beenden|auflösen)",
            r"(?:anbieter|provider) (?:zu )?wechseln",
            r"zur konkurrenz",
            r"nie wieder",
            r"konto (?:löschen|schließen)",
        ],
        "hu": [
            r"felmond\w*",
            r"lemondom az? (?:előfizetés\w*|szerződés\w*|szolgáltatás\w*)",
            r"(?:szolgáltatót|szolgáltatóhoz) vált\w*",
            r"más(?:ik)? szolgáltató\w*",
            r"soha többé",
            r"a konkurenciához",
            r"megszüntet\w* (?:a )?(?:szerződés\w*|előfizetés\w*|fiókom\w*)",
        ],
        "ru": [
            r"расторг\w*",
            r"отказ\w* от (?:услуг\w*|подписки|договора)",
            r"отменить подписку",
            r"перейду к (?:другому|конкурент\w*)",
            r"смен\w* (?:провайдер\w*|оператор\w*|поставщик\w*)",
            r"больше никогда",
            r"уйду к",
            r"закр\w+ (?:мой )?(?:сч[её]т|аккаунт)",
        ],
        "fr": [
            r"résili\w*",
            r"annuler mon abonnement",
            r"changer d'(?:opérateur|fournisseur)",
            r"(?:aller|passer) (?:voir )?(?:chez )?la concurrence",
            r"plus jamais",
            r"fermer mon compte",
        ],
        "es": [
            r"dar(?:me|nos)? de baja",
            r"(?:me|nos) (?:doy|damos|daré|daremos) de baja",
            r"cancelar (?:mi|la) (?:suscripción|cuenta|contrato)",
            r"cambiar(?:me)? de (?:compañía|proveedor|operador)",
            r"(?:irme|me voy) a la competencia",
            r"nunca más",
        ],
        "it": [
            r"disd(?:ir|ic|ett)\w*",
            r"annullare l'abbonamento",
            r"cambiare (?:operatore|fornitore|gestore)",
            r"passare alla concorrenza",
            r"mai più",
            r"chiudere il (?:mio )?(?:conto|account)",
        ],
        "pt": [
            r"cancelar (?:minha|a) (?:assinatura|conta|contrato)",
            r"trocar de (?:operadora|fornecedor)",
            r"(?:ir|vou) para a concorrência",
            r"nunca mais",
            r"encerrar (?:minha|a) conta",
        ],
    },
    "legal": {
        "en": [
            r"lawyer\w*",
            r"attorney\w*",
            r"legal action",
            r"legal steps",
            r"sue(?: you)?",
            r"lawsuit",
            r"in court",
            r"take you to court",
            r"small claims",
            r"consumer protection",
            r"ombudsman",
            r"report (?:you|this) to the",
            r"regulator\w*",
            r"trading standards",
        ],
        "de": [
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
        ],
        "hu": [
            r"ügyvéd\w*",
            r"jogi (?:lépés\w*|út\w*|eljárás\w*)",
            r"bíróság\w*",
            r"bepereln?\w*",
            r"perel\w*",
            r"feljelent\w*",
            r"fogyasztóvéd\w*",
            r"békéltető",
        ],
        "ru": [
            r"юрист\w*",
            r"адвокат\w*",
            r"в суд",
            r"суд(?:а|ом|е|ебн\w*)?",
            r"(?:подать|подам|подадим) иск",
            r"исков\w*",
            r"роспотребнадзор\w*",
            r"защит\w* прав потребител\w*",
            r"прокуратур\w*",
        ],
        "fr": [
            r"avocat\w*",
            r"poursuites?(?: judiciaires)?",
            r"action en justice",
            r"tribunal",
            r"porter plainte",
            r"association de consommateurs",
            r"dgccrf",
            r"médiateur",
        ],
        "es": [
            r"abogad\w*",
            r"demanda(?:r|ré|remos)",
            r"acciones legales",
            r"tribunal\w*",
            r"denunci\w*",
            r"oficina del consumidor",
            r"vía judicial",
        ],
        "it": [
            r"avvocat\w*",
            r"azion\w* legal\w*",
            r"vie legali",
            r"tribunale",
            r"denunci\w*",
            r"associazione (?:dei )?consumatori",
            r"codacons",
        ],
        "pt": [
            r"advogad\w*",
            r"processar",
            r"processo judicial",
            r"ação judicial",
            r"tribunal",
            r"procon",
            r"reclame aqui",
            r"justiça",
        ],
    },
    "outage": {
        "en": [
            r"(?:is|are|was|went|been|goes|keeps going) down",
            r"not working",
            r"(?:doesn'?t|does not|don'?t|won'?t|"
            r"isn'?t|aren'?t) work\w*",
            r"stopped working",
            r"can(?:'?t|not) (?:log ?in|sign ?in|access|connect|"
            r"open|load)",
            r"unable to (?:log ?in|sign ?in|access|connect|load)",
            r"outage",
            r"service unavailable",
            r"(?:site|website|app|server|service|system|portal|platform) "
            r"(?:is |was )?(?:unavailable|unreachable)",
            r"crash\w*",
            r"(?:error|status) 50[0-4]",
            r"(?:is|are|went|gone) offline",
            r"no (?:internet|service|connection)",
        ],
        "de": [
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
        ],
        "hu": [
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
        ],
        "ru": [
            r"не работа\w*",
            r"не (?:открыва|загружа|грузит)\w*",
            r"(?:сайт|сервер|сервис|система|приложение) (?:упал\w*|лежит)",
            r"сбо[йи]\w*",
            r"недоступ\w*",
            r"не могу (?:войти|зайти|подключиться)",
            r"вылета\w*",
            r"нет (?:интернета|связи)",
            r"авари\w*",
        ],
        "fr": [
            r"ne (?:fonctionne|marche) (?:plus|pas)",
            r"en panne",
            r"panne",
            r"inaccessible",
            r"hors service",
            r"(?:ça|ca|il|elle|tout|l'application|le site) plante",
            r"a planté",
            r"impossible de (?:me connecter|se connecter|accéder)",
            r"pas de (?:connexion|réseau|service)",
        ],
        "es": [
            r"no funciona\w*",
            r"caíd[oa]",
            r"no puedo (?:entrar|acceder|conectarme|iniciar sesión)",
            r"fuera de servicio",
            r"se cae",
            r"avería",
            r"sin (?:servicio|conexión|internet)",
        ],
        "it": [
            r"non funziona\w*",
            r"guast\w*",
            r"disservizi\w*",
            r"non riesco (?:ad accedere|a collegarmi|"
            r"a connettermi|ad entrare)",
            r"irraggiungibile",
            r"fuori servizio",
            r"bloccat\w*",
        ],
        "pt": [
            r"não funciona\w*",
            r"não está funcionando",
            r"fora do ar",
            r"(?:sistema|site|servidor|serviço|internet|app|aplicativo|conexão) caiu",
            r"não consigo (?:acessar|entrar|"
            r"conectar|logar)",
            r"instável",
            r"sem (?:serviço|conexão|internet|sinal)",
        ],
    },
    "frustration": {
        "en": [
            r"unacceptable",
            r"ridiculous",
            r"outrageous",
            r"disgust\w*",
            r"terrible",
            r"horrible",
            r"awful",
            r"worst",
            r"fed up",
            r"sick (?:and tired )?of",
            r"had enough",
            r"pathetic",
            r"incompetent",
            r"useless",
            r"waste of (?:time|money)",
            r"scam",
            r"fraud\w*",
            r"frustrat\w*",
            r"furious",
            r"angry",
            r"disappointed",
            r"shameful",
            r"a joke",
        ],
        "de": [
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
        ],
        "hu": [
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
        ],
        "ru": [
            r"безобрази\w*",
            r"возмутительн\w*",
            r"неприемлем\w*",
            r"ужасн\w*",
            r"надоело",
            r"достал[иа]",
            r"издевательств\w*",
            r"позор\w*",
            r"кошмар\w*",
            r"обман\w*",
            r"мошенни\w*",
            r"разочарова\w*",
            r"отвратительн\w*",
            r"бесполезн\w*",
            r"хамств\w*",
            r"бардак",
        ],
        "fr": [
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
        ],
        "es": [
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
        ],
        "it": [
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
        ],
        "pt": [
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
        ],
    },
}

#: Words that, just before a cue, negate it ("not urgent", "nicht dringend", "nem sürgős", "не срочно").
_NEGATION = re.compile(
    r"(?:\b(?:not|no|never|nothing|isn'?t|nicht|kein\w*|nem|ne|не|нет|pas|non|não|nao|sin|senza|sem|ni)\b"
    r"[ \t]+(?:\w+[ \t]+)?)$",
    re.IGNORECASE,
)
#: Kinds whose cue words may be negated; outage / repeat-contact patterns carry their own negations.
_NEGATABLE = {"urgency", "frustration", "churn", "legal"}

_CAPS_WORD = r"[A-ZÁÉÍÓÖŐÚÜŰÄÀÂÇÈÊËÎÏÔÙÛÑÃÕА-ЯЁ]{2,}"
_CAPS_RUN = re.compile(rf"(?<![\w]){_CAPS_WORD}(?:[\s,.'’-]+{_CAPS_WORD})+(?![\w])")
_CAPS_SINGLE = re.compile(r"(?<![\w])[A-ZÁÉÍÓÖŐÚÜŰÄÀÂÇÈÊËÎÏÔÙÛÑÃÕА-ЯЁ]{6,}(?![\w])")
_BANG = re.compile(r"[!?¡¿]*!(?:\s?[!?¡¿1]){2,}|(?:\?\s?!|!\s?\?)[!?]*")


def _compile(kind: str) -> CaselessPattern:
    parts = [p for lang_patterns in PATTERNS[kind].values() for p in lang_patterns]
    parts.sort(key=len, reverse=True)  # prefer the longest alternative at a position
    return CaselessPattern(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])")


@dataclass
class CueDetector:
    """Find named escalation cues with their spans.

    Args:
        kinds: cue kinds to look for (default: all of :data:`CUE_KINDS`).
        max_chars: only the first ``max_chars`` characters of a text are scanned (bounds the cost on huge
          input).
        min_caps_letters: shouting needs at least this many upper-case letters in a run.
    """

    kinds: Sequence[str] = CUE_KINDS
    max_chars: int = 20_000
    min_caps_letters: int = 8
    _regexes: dict[str, CaselessPattern] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(CUE_KINDS))
        if unknown:
            raise ValueError(f"unknown cue kinds {unknown}; choose from {list(CUE_KINDS)}")
        self._regexes = {k: _compile(k) for k in self.kinds if k != "shouting"}

    def detect(self, text: str, *, message_index: int | None = None, source: str | None = None) -> list[Cue]:
        """Cues in ``text``, sorted by position; overlapping cues of one kind are merged to the first."""
        if not text:
            return []
        text = text[: self.max_chars]
        found: list[Cue] = []
        lowered = text.lower()
        for kind, regex in self._regexes.items():
            last_end = -1
            for start, end in regex.spans(text, lowered):
                if start < last_end:
                    continue
                if kind in _NEGATABLE and _NEGATION.search(text[max(0, start - 30) : start]):
                    continue
                found.append(self._cue(kind, text[start:end], start, end, message_index, source))
                last_end = end
        if "shouting" in self.kinds:
            found += self._shouting(text, message_index, source)
        found.sort(key=lambda c: (c.start, c.end))
        return found

    def _cue(self, kind: str, text: str, start: int, end: int, index: int | None, source: str | None) -> Cue:
        return Cue(kind=kind, text=text, start=start, end=end, message_index=index, source=source)

    def _shouting(self, text: str, index: int | None, source: str | None) -> list[Cue]:
        out: list[Cue] = []
        letters = list(filter(str.isalpha, text))
        upper = sum(map(str.isupper, letters))
        if len(letters) >= 20 and upper / len(letters) > 0.7:  # the whole message in capitals
            out.append(self._cue("shouting", text.strip()[:80], 0, len(text.rstrip()), index, source))
        else:
            taken: list[tuple[int, int]] = []
            for regex in (_CAPS_RUN, _CAPS_SINGLE):
                for m in regex.finditer(text):
                    if sum(c.isalpha() for c in m.group(0)) < self.min_caps_letters and regex is _CAPS_RUN:
                        continue
                    if any(m.start() < e and s < m.end() for s, e in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    out.append(self._cue("shouting", m.group(0), m.start(), m.end(), index, source))
        for m in _BANG.finditer(text):
            out.append(self._cue("shouting", m.group(0), m.start(), m.end(), index, source))
        return out

    def detect_many(self, texts: Iterable[str]) -> list[list[Cue]]:
        """:meth:`detect` for each text."""
        return [self.detect(t) for t in texts]


_DEFAULT: CueDetector | None = None


def detect_cues(text: str, *, message_index: int | None = None, source: str | None = None) -> list[Cue]:
    """Escalation cues in ``text`` with the default :class:`CueDetector`."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = CueDetector()
    return _DEFAULT.detect(text, message_index=message_index, source=source)
