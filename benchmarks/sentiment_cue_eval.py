"""A small hand-labelled set for measuring the escalation-cue detector (``python -m benchmarks sentiment``).

Benchmark data, not part of the library (it was ``triage.sentiment.cue_eval``); the tests import it too.

Short helpdesk messages in en de hu ru fr es (20-22 each) plus it and pt (8 each); about half have no cue, and
many of those are traps (a negated cue, "try again", a delivery "délai", a "data di scadenza", a food
"Gericht"). Each item lists the cue kinds a careful agent would mark. The set was written by the detector's
author, after the lexicon: treat the numbers as an optimistic check, not an independent benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.sentiment.cues import CueDetector

#: (language, text, expected cue kinds)
CUE_EVAL: list[tuple[str, str, frozenset[str]]] = [
    # ---------------------------------------------------------------- English
    (
        "en",
        "URGENT: our checkout has been down since 9am, we are losing sales!",
        frozenset({"urgency", "shouting", "outage", "money"}),
    ),
    ("en", "This is the third time I am writing about the same invoice.", frozenset({"repeat_contact"})),
    ("en", "If this is not fixed by Friday I will cancel my subscription.", frozenset({"deadline", "churn"})),
    ("en", "My lawyer will be in touch about the double charge.", frozenset({"legal", "money"})),
    ("en", "The app keeps crashing when I open settings!!!", frozenset({"outage", "shouting"})),
    ("en", "Honestly this is unacceptable, I have been waiting two weeks.", frozenset({"frustration"})),
    ("en", "I still haven't received my refund of $120.", frozenset({"repeat_contact", "money"})),
    ("en", "Please help ASAP, I cannot log in to my account.", frozenset({"urgency", "outage"})),
    ("en", "WHY IS NOBODY ANSWERING MY EMAILS", frozenset({"shouting", "repeat_contact"})),
    (
        "en",
        "We need this resolved before tomorrow's launch or we will switch to a competitor.",
        frozenset({"deadline", "churn"}),
    ),
    ("en", "Hi, could you tell me how to change my delivery address?", frozenset()),
    ("en", "Thanks a lot, the new feature works great.", frozenset()),
    ("en", "No rush, this is not urgent at all.", frozenset()),
    ("en", "Please try again later, the page said.", frozenset()),
    ("en", "Can I add a second user to my plan?", frozenset()),
    ("en", "What are your opening hours on weekends?", frozenset()),
    ("en", "I would like to update the billing email on my account.", frozenset()),
    ("en", "The parcel arrived today, everything is fine.", frozenset()),
    ("en", "Is the VPN setup guide available as a PDF?", frozenset()),
    ("en", "Where can I download last month's invoice?", frozenset()),
    # ---------------------------------------------------------------- German
    ("de", "Dringend: Unser Shop ist seit heute Morgen nicht erreichbar!", frozenset({"urgency", "outage"})),
    (
        "de",
        "Ich schreibe Ihnen zum wiederholten Mal wegen derselben Rechnung.",
        frozenset({"repeat_contact"}),
    ),
    (
        "de",
        "Wenn das nicht bis Freitag behoben ist, kündige ich den Vertrag.",
        frozenset({"deadline", "churn"}),
    ),
    ("de", "Mein Anwalt wird sich bei Ihnen melden.", frozenset({"legal"})),
    ("de", "Die App funktioniert nicht mehr seit dem Update.", frozenset({"outage"})),
    ("de", "Das ist eine Frechheit, ich warte seit drei Wochen.", frozenset({"frustration"})),
    ("de", "Sie haben den Betrag doppelt abgebucht, ich will mein Geld zurück.", frozenset({"money"})),
    ("de", "Bitte sofort zurückrufen, die Telefonanlage ist ausgefallen.", frozenset({"urgency", "outage"})),
    ("de", "Ich habe schon wieder keine Antwort bekommen.", frozenset({"repeat_contact"})),
    ("de", "Ich wende mich an die Verbraucherzentrale, wenn sich nichts tut.", frozenset({"legal"})),
    ("de", "Wie kann ich meine Lieferadresse ändern?", frozenset()),
    ("de", "Vielen Dank für die schnelle Hilfe!", frozenset()),
    ("de", "Es ist nicht dringend, aber wann kommt das Update?", frozenset()),
    ("de", "Das Gericht im Restaurant war lecker, danke für den Gutschein.", frozenset()),
    ("de", "Bitte versuchen Sie es später erneut.", frozenset()),
    ("de", "Kann ich einen zweiten Benutzer hinzufügen?", frozenset()),
    ("de", "Wo finde ich die Rechnung vom letzten Monat?", frozenset()),
    ("de", "Die Lieferung ist heute angekommen, alles bestens.", frozenset()),
    ("de", "Gibt es die Anleitung auch als PDF?", frozenset()),
    ("de", "Ich möchte meine E-Mail-Adresse aktualisieren.", frozenset()),
    # ---------------------------------------------------------------- Hungarian
    (
        "hu",
        "Sürgős! Harmadszor írok, a jelszó-visszaállító link nem működik.",
        frozenset({"urgency", "repeat_contact", "outage"}),
    ),
    ("hu", "Ha holnapig nem oldják meg, felmondom a szerződést.", frozenset({"deadline", "churn"})),
    ("hu", "Ügyvédhez fordulok, ha nem kapom vissza a pénzem.", frozenset({"legal", "money"})),
    ("hu", "Ez elfogadhatatlan, két hete várok a válaszra.", frozenset({"frustration"})),
    ("hu", "Megint nem tudok belépni a fiókomba.", frozenset({"repeat_contact", "outage"})),
    ("hu", "A weboldal reggel óta nem elérhető.", frozenset({"outage"})),
    ("hu", "Kétszer vonták le a havidíjat, kérem a visszatérítést.", frozenset({"money"})),
    ("hu", "Azonnal intézkedjenek, leállt a rendszer!", frozenset({"urgency", "outage"})),
    ("hu", "Fogyasztóvédelemhez fordulok a panaszommal.", frozenset({"legal"})),
    ("hu", "Még mindig nem érkezett meg a csomag.", frozenset({"repeat_contact"})),
    ("hu", "Hogyan tudom megváltoztatni a szállítási címet?", frozenset()),
    ("hu", "Köszönöm a gyors segítséget!", frozenset()),
    ("hu", "Nem sürgős, de mikor lesz elérhető az új verzió?", frozenset()),
    ("hu", "Szeretnék egy második felhasználót hozzáadni.", frozenset()),
    ("hu", "Hol találom a múlt havi számlát?", frozenset()),
    ("hu", "A csomag ma megérkezett, minden rendben.", frozenset()),
    ("hu", "Van a telepítési útmutató PDF formátumban is?", frozenset()),
    ("hu", "Milyen fizetési módokat fogadnak el?", frozenset()),
    ("hu", "Szeretném módosítani az e-mail címemet.", frozenset()),
    ("hu", "Mikor van nyitva az ügyfélszolgálat hétvégén?", frozenset()),
    # ---------------------------------------------------------------- Russian
    (
        "ru",
        "Уже третий раз пишу: сайт не работает, срочно!",
        frozenset({"repeat_contact", "outage", "urgency"}),
    ),
    ("ru", "Если до пятницы не исправите, расторгну договор.", frozenset({"deadline", "churn"})),
    ("ru", "Я обращусь к юристу и подам иск.", frozenset({"legal"})),
    ("ru", "Это безобразие, я жду ответа две недели.", frozenset({"frustration"})),
    ("ru", "С меня списали дважды, верните деньги.", frozenset({"money"})),
    ("ru", "Не могу войти в личный кабинет с утра.", frozenset({"outage"})),
    ("ru", "Опять ничего не пришло на почту.", frozenset({"repeat_contact"})),
    ("ru", "Немедленно восстановите доступ, у нас сбой в оплате!", frozenset({"urgency", "outage"})),
    ("ru", "Буду жаловаться в Роспотребнадзор.", frozenset({"legal"})),
    ("ru", "ПОЧЕМУ НИКТО НЕ ОТВЕЧАЕТ", frozenset({"shouting"})),
    ("ru", "Как изменить адрес доставки?", frozenset()),
    ("ru", "Спасибо за быструю помощь!", frozenset()),
    ("ru", "Это не срочно, но когда выйдет обновление?", frozenset()),
    ("ru", "Посылка лежит на почте, заберу завтра, спасибо.", frozenset()),
    ("ru", "Можно ли добавить второго пользователя?", frozenset()),
    ("ru", "Где найти счёт за прошлый месяц?", frozenset()),
    ("ru", "Заказ пришёл сегодня, всё в порядке.", frozenset()),
    ("ru", "Есть ли инструкция в формате PDF?", frozenset()),
    ("ru", "Хочу поменять адрес электронной почты.", frozenset()),
    ("ru", "Какие способы оплаты вы принимаете?", frozenset()),
    # ---------------------------------------------------------------- French
    ("fr", "Urgent : le site est en panne depuis ce matin !", frozenset({"urgency", "outage"})),
    ("fr", "C'est la troisième fois que je vous écris pour la même facture.", frozenset({"repeat_contact"})),
    (
        "fr",
        "Si ce n'est pas réglé d'ici vendredi, je résilie mon abonnement.",
        frozenset({"deadline", "churn"}),
    ),
    ("fr", "Je vais porter plainte et contacter mon avocat.", frozenset({"legal"})),
    ("fr", "C'est inadmissible, j'attends depuis deux semaines.", frozenset({"frustration"})),
    ("fr", "J'ai été débité deux fois, je veux un remboursement.", frozenset({"money"})),
    ("fr", "L'application ne fonctionne plus depuis la mise à jour.", frozenset({"outage"})),
    ("fr", "Toujours pas de réponse de votre part.", frozenset({"repeat_contact"})),
    (
        "fr",
        "Merci de traiter ma demande au plus vite, impossible de me connecter.",
        frozenset({"urgency", "outage"}),
    ),
    ("fr", "J'en ai marre de vos promesses.", frozenset({"frustration"})),
    ("fr", "Comment modifier mon adresse de livraison ?", frozenset()),
    ("fr", "Merci beaucoup pour votre aide rapide.", frozenset()),
    ("fr", "Quel est le délai de livraison pour la Belgique ?", frozenset()),
    ("fr", "Ce n'est pas urgent, mais quand sortira la nouvelle version ?", frozenset()),
    ("fr", "Puis-je ajouter un deuxième utilisateur ?", frozenset()),
    ("fr", "Où trouver la facture du mois dernier ?", frozenset()),
    ("fr", "Le colis est arrivé aujourd'hui, tout va bien.", frozenset()),
    ("fr", "Le guide existe-t-il en PDF ?", frozenset()),
    ("fr", "Je souhaite changer mon adresse e-mail.", frozenset()),
    ("fr", "Quels moyens de paiement acceptez-vous ?", frozenset()),
    # ---------------------------------------------------------------- Spanish
    ("es", "¡Urgente! La web no funciona desde esta mañana.", frozenset({"urgency", "outage"})),
    ("es", "Es la tercera vez que escribo por la misma factura.", frozenset({"repeat_contact"})),
    ("es", "Si no lo arreglan antes del viernes, me doy de baja.", frozenset({"deadline", "churn"})),
    ("es", "Voy a hablar con mi abogado y poner una denuncia.", frozenset({"legal"})),
    ("es", "Es inaceptable, llevo dos semanas esperando.", frozenset({"frustration"})),
    ("es", "Me han cobrado dos veces, quiero un reembolso.", frozenset({"money"})),
    ("es", "No puedo entrar en mi cuenta desde ayer.", frozenset({"outage"})),
    ("es", "Todavía no he recibido ninguna respuesta.", frozenset({"repeat_contact"})),
    (
        "es",
        "Necesito una solución lo antes posible, el servicio está caído.",
        frozenset({"urgency", "outage"}),
    ),
    ("es", "Estoy harto de esperar!!!", frozenset({"frustration", "shouting"})),
    ("es", "¿Cómo cambio mi dirección de envío?", frozenset()),
    ("es", "Muchas gracias por la ayuda.", frozenset()),
    ("es", "No es urgente, pero ¿cuándo sale la nueva versión?", frozenset()),
    ("es", "Inténtelo de nuevo más tarde, decía la página.", frozenset()),
    ("es", "¿Puedo añadir un segundo usuario?", frozenset()),
    ("es", "¿Dónde encuentro la factura del mes pasado?", frozenset()),
    ("es", "El paquete llegó hoy, todo bien.", frozenset()),
    ("es", "¿La guía está disponible en PDF?", frozenset()),
    ("es", "Quiero cambiar mi correo electrónico.", frozenset()),
    ("es", "¿Qué métodos de pago aceptan?", frozenset()),
    # ---------------------------------------------------------------- Italian
    ("it", "Urgente: il sito non funziona da stamattina.", frozenset({"urgency", "outage"})),
    ("it", "È la terza volta che scrivo per lo stesso problema.", frozenset({"repeat_contact"})),
    ("it", "Se non risolvete entro venerdì, disdico il contratto.", frozenset({"deadline", "churn"})),
    ("it", "Mi rivolgerò a un avvocato.", frozenset({"legal"})),
    ("it", "Qual è la data di scadenza della mia carta?", frozenset()),
    ("it", "Grazie mille per l'aiuto.", frozenset()),
    ("it", "Come posso cambiare l'indirizzo di spedizione?", frozenset()),
    ("it", "Riprova di nuovo più tardi, diceva il messaggio.", frozenset()),
    # ---------------------------------------------------------------- Portuguese
    ("pt", "Urgente: o sistema caiu e não consigo acessar nada.", frozenset({"urgency", "outage"})),
    ("pt", "É a terceira vez que entro em contato.", frozenset({"repeat_contact"})),
    ("pt", "Vou procurar o Procon se não resolverem.", frozenset({"legal"})),
    ("pt", "Fui cobrado duas vezes, quero o estorno.", frozenset({"money"})),
    ("pt", "Qual é o prazo de entrega para Lisboa?", frozenset()),
    ("pt", "Obrigado pela ajuda rápida.", frozenset()),
    ("pt", "O dinheiro caiu na conta hoje, obrigado.", frozenset()),
    ("pt", "Como altero meu endereço de e-mail?", frozenset()),
]


#: Written after the lexicon was frozen and never used to change it: the honest check (en de hu ru fr es).
CUE_HELDOUT: list[tuple[str, str, frozenset[str]]] = [
    ("en", "Our whole team is locked out and the dashboard shows error 503.", frozenset({"outage"})),
    ("en", "I've contacted you three times already and nobody has replied.", frozenset({"repeat_contact"})),
    ("en", "Fix this immediately or I'm taking my business elsewhere.", frozenset({"urgency", "churn"})),
    ("en", "You charged me twice this month, I want my money back.", frozenset({"money"})),
    ("en", "Could you resend the activation email, please?", frozenset()),
    ("en", "The download speed is fine now, thanks.", frozenset()),
    ("en", "Do you offer a student discount?", frozenset()),
    (
        "de",
        "Das System ist komplett abgestürzt, wir brauchen sofort Hilfe.",
        frozenset({"outage", "urgency"}),
    ),
    ("de", "Ich habe bereits mehrfach angerufen, immer noch keine Lösung.", frozenset({"repeat_contact"})),
    ("de", "Wir erwägen rechtliche Schritte.", frozenset({"legal"})),
    ("de", "Ich bin wirklich enttäuscht von Ihrem Service.", frozenset({"frustration"})),
    ("de", "Könnten Sie mir die Bestellbestätigung noch einmal schicken?", frozenset()),
    ("de", "Funktioniert die App auch auf dem Tablet?", frozenset()),
    ("de", "Danke, das Problem ist gelöst.", frozenset()),
    ("hu", "Negyedszer jelzem a hibát, és még mindig semmi.", frozenset({"repeat_contact"})),
    ("hu", "Az internet teljesen leállt, sürgősen segítsenek!", frozenset({"outage", "urgency"})),
    ("hu", "Felháborító, hogy senki nem válaszol.", frozenset({"frustration"})),
    ("hu", "Pénteken lejár a határidő, addig kell a számla.", frozenset({"deadline"})),
    ("hu", "Kérhetnék egy másolatot a szerződésről?", frozenset()),
    ("hu", "Működik a kupon a kiárusításon is?", frozenset()),
    ("hu", "Köszönöm, minden rendben van.", frozenset()),
    ("ru", "Интернет не работает уже второй день, сколько можно?", frozenset({"outage", "repeat_contact"})),
    ("ru", "Верните деньги, иначе пойду в суд.", frozenset({"money", "legal"})),
    ("ru", "Отменить подписку немедленно!", frozenset({"churn", "urgency"})),
    ("ru", "Это ужасное обслуживание.", frozenset({"frustration"})),
    ("ru", "Подскажите, пожалуйста, тарифы для бизнеса.", frozenset()),
    ("ru", "Можно оплатить картой при получении?", frozenset()),
    ("ru", "Всё работает, спасибо большое.", frozenset()),
    (
        "fr",
        "Votre service client est lamentable, je change d'opérateur.",
        frozenset({"frustration", "churn"}),
    ),
    ("fr", "Le réseau est hors service depuis hier soir.", frozenset({"outage"})),
    ("fr", "Je vous relance pour la troisième fois.", frozenset({"repeat_contact"})),
    ("fr", "J'ai besoin de la facture avant lundi, c'est urgent.", frozenset({"deadline", "urgency"})),
    ("fr", "Pouvez-vous m'envoyer le bon de commande ?", frozenset()),
    ("fr", "L'application est très pratique, bravo.", frozenset()),
    ("fr", "Est-ce que la livraison est gratuite ?", frozenset()),
    ("es", "Llevo tres días sin internet y nadie me da una solución.", frozenset({"outage"})),
    (
        "es",
        "Es la enésima vez que reclamo, esto es una vergüenza.",
        frozenset({"repeat_contact", "frustration"}),
    ),
    (
        "es",
        "Si no me devuelven el dinero, acudiré a la oficina del consumidor.",
        frozenset({"money", "legal"}),
    ),
    ("es", "Necesito la factura para mañana sin falta.", frozenset({"deadline"})),
    ("es", "¿Tienen tienda física en Valencia?", frozenset()),
    ("es", "Todo perfecto, gracias por la rapidez.", frozenset()),
    ("es", "¿Cuánto tarda el envío a Canarias?", frozenset()),
]


def evaluate_cues(
    detector: CueDetector | None = None, items: Iterable[tuple[str, str, frozenset[str]]] | None = None
) -> dict:
    """Precision / recall of cue kinds per message on ``items`` (default :data:`CUE_EVAL`), overall and per
    language, and the share of cue-free messages flagged with any cue."""
    detector = detector or CueDetector()
    stats: dict[str, dict[str, int]] = {}
    errors: list[dict] = []
    for lang, text, expected in CUE_EVAL if items is None else items:
        found = {c.kind for c in detector.detect(text)}
        for key in ("all", lang):
            s = stats.setdefault(key, {"tp": 0, "fp": 0, "fn": 0, "clean": 0, "clean_flagged": 0, "n": 0})
            s["tp"] += len(found & expected)
            s["fp"] += len(found - expected)
            s["fn"] += len(expected - found)
            s["n"] += 1
            if not expected:
                s["clean"] += 1
                s["clean_flagged"] += bool(found)
        if found != expected:
            errors.append(
                {
                    "language": lang,
                    "text": text,
                    "missed": sorted(expected - found),
                    "extra": sorted(found - expected),
                }
            )
    out = {}
    for key, s in stats.items():
        out[key] = {
            "precision": s["tp"] / max(1, s["tp"] + s["fp"]),
            "recall": s["tp"] / max(1, s["tp"] + s["fn"]),
            "false_alarm_rate": s["clean_flagged"] / max(1, s["clean"]),
            "messages": s["n"],
            "cue_free": s["clean"],
        }
    return {"by_language": out, "errors": errors}
