"""The HTTP service on a real uvicorn server (127.0.0.1, free port), called with httpx."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

from triage.batch.hashing import HashingEncoder  # noqa: E402
from triage.config import TriageConfig  # noqa: E402
from triage.pipeline import Triager  # noqa: E402
from triage.schema import Cue, Prediction, SentimentResult, TriageResult  # noqa: E402
from triage.service import ServiceSettings, create_app  # noqa: E402
from triage.service.webhooks import zammad_response, zammad_ticket, znuny_response, znuny_ticket  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PAYLOADS = REPO.parent / "shared" / "data" / "helpdesk-payloads"
EXAMPLES = REPO / "examples" / "webhooks"
TOKEN = "test-token-123"
SECRET = "zammad-hmac-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn in a thread on 127.0.0.1; ``url`` once it listens."""

    def __init__(self, app) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def wait_ready(self, client, timeout: float = 60) -> list[int]:
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = client.get("/readyz").status_code
            seen.append(status)
            if status == 200:
                return seen
            time.sleep(0.05)
        raise AssertionError(f"not ready: {client.get('/readyz').text}")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _triager() -> Triager:
    return Triager(TriageConfig(steps=["normalize", "language", "encode"]), encoder=HashingEncoder())


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """Auth on, small limits, a knowledge base (hashing encoder) and a Zammad HMAC secret."""
    settings = ServiceSettings(
        api_token=TOKEN,
        max_body_bytes=16384,
        max_batch=3,
        kb=str(REPO / "src" / "triage" / "bundled" / "samples" / "kb"),
        feedback=str(tmp_path_factory.mktemp("fb") / "feedback.jsonl"),
        zammad_hmac_secret=SECRET,
    )
    with Server(create_app(settings, triager=_triager())) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            server.wait_ready(client)
            client.headers["Authorization"] = f"Bearer {TOKEN}"
            yield client, settings


@pytest.fixture(scope="module")
def open_server():
    """No auth, no knowledge base, default limits."""
    with Server(create_app(ServiceSettings(), triager=_triager())) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            server.wait_ready(client)
            yield client


# --------------------------------------------------------------------------- health, auth
def test_health_and_readiness(secured):
    client, _ = secured
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["ready"] and ready["steps"] == ["normalize", "language", "encode"]
    assert ready["encoder"] == "hashing" and ready["knowledge_base"] is True
    assert client.get("/openapi.json").json()["paths"]["/v1/triage"]["post"]


def test_auth_on(secured):
    client, _ = secured
    body = {"id": "A", "body": "Mein Passwort funktioniert nicht mehr."}
    anonymous = httpx.post(f"{client.base_url}/v1/triage", json=body)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"]["code"] == "unauthorized"
    wrong = httpx.post(
        f"{client.base_url}/v1/triage", json=body, headers={"Authorization": f"Bearer {TOKEN}x"}
    )
    assert wrong.status_code == 401
    basic = httpx.post(f"{client.base_url}/v1/triage", json=body, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    assert httpx.get(f"{client.base_url}/healthz").status_code == 200  # probes need no token
    ok = client.post("/v1/triage", json=body)
    assert ok.status_code == 200 and ok.json()["ticket_id"] == "A" and ok.json()["language"] == "de"


def test_auth_off(open_server):
    response = open_server.post("/v1/triage", json={"body": "Где мой заказ? Жду уже две недели."})
    assert response.status_code == 200 and response.json()["language"] == "ru"


# --------------------------------------------------------------------------- triage
def test_one_ticket_or_a_list(open_server):
    tickets = [
        {"id": "1", "title": "Factura", "description": "La factura de marzo tiene un importe incorrecto."},
        {"id": "2", "subject": "Login", "messages": [{"role": "customer", "text": "Nem tudok belépni."}]},
        "Je n'ai pas reçu mon colis, pouvez-vous vérifier?",
    ]
    batch = open_server.post("/v1/triage", json=tickets[:2])
    assert batch.status_code == 200
    assert [r["ticket_id"] for r in batch.json()] == ["1", "2"]
    assert open_server.post("/v1/triage", json=[]).json() == []
    single = open_server.post("/v1/triage", json=tickets[2])
    assert single.status_code == 200 and single.json()["language"] == "fr"


def test_malformed_bodies_give_422_with_the_field(open_server):
    broken = open_server.post(
        "/v1/triage", content=b'{"body": "x"', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "validation_error"
    no_text = open_server.post(
        "/v1/triage", json=[{"id": "ok", "body": "fine"}, {"id": "bad", "subject": ""}]
    )
    assert no_text.status_code == 422
    fields = no_text.json()["error"]["fields"]
    assert [f["loc"] for f in fields] == ["body.1"] and "no text" in fields[0]["message"]
    wrong_type = open_server.post(
        "/v1/triage", json={"body": "x", "messages": [{"role": "robot", "text": "hi"}]}
    )
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["fields"][0]["loc"] == "body.messages.0.role"
    kb = open_server.post("/v1/kb/search", json={"query": "", "k": 0})
    assert {f["loc"] for f in kb.json()["error"]["fields"]} == {"body.query", "body.k"}
    for response in (broken, no_text, wrong_type, kb):
        assert "Traceback" not in response.text


def test_size_and_batch_limits(secured):
    client, settings = secured
    big = {"body": "x" * (settings.max_body_bytes + 10)}
    too_big = client.post("/v1/triage", json=big)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(10):
            yield b" " * 2000

    streamed = client.post("/v1/triage", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    batch = client.post("/v1/triage", json=[{"body": f"ticket {i}"} for i in range(settings.max_batch + 1)])
    assert batch.status_code == 413 and batch.json()["error"]["code"] == "batch_too_large"


def test_unknown_route_and_method_are_json(open_server):
    missing = open_server.get("/v2/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert open_server.get("/v1/triage").status_code == 405


FACTORY_SLOW = 1.5


class SlowEncoder(HashingEncoder):
    name = "slow-hashing"

    def encode(self, texts, *, kind="query", batch_size=32):
        time.sleep(FACTORY_SLOW)
        return super().encode(texts, kind=kind, batch_size=batch_size)


def test_not_ready_while_loading_then_timeout():
    triager = Triager(TriageConfig(steps=["normalize", "encode"]), encoder=SlowEncoder())
    with Server(create_app(ServiceSettings(timeout_s=0.3), triager=triager)) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            early = client.get("/readyz")
            assert early.status_code == 503 and early.json()["error"]["code"] == "loading"
            assert client.post("/v1/triage", json={"body": "hello"}).status_code == 503
            server.wait_ready(client)
            late = client.post("/v1/triage", json={"body": "hello"})
            assert late.status_code == 504 and late.json()["error"]["code"] == "timeout"


# --------------------------------------------------------------------------- kb, feedback
def test_kb_search_and_feedback(secured):
    client, settings = secured
    found = client.post("/v1/kb/search", json={"query": "I want to cancel my subscription", "k": 3})
    assert found.status_code == 200, found.text
    hits = found.json()["hits"]
    assert len(hits) == 3 and hits[0]["article_id"] == "cancel-subscription"
    event = client.post(
        "/v1/feedback",
        json={"ticket_id": "T-9", "article_id": hits[0]["article_id"], "action": "accepted", "rank": 1},
    )
    assert event.status_code == 200 and event.json()["recorded"]["action"] == "accepted"
    logged = [json.loads(line) for line in Path(settings.feedback).read_text().splitlines()]
    assert logged[-1]["ticket_id"] == "T-9" and logged[-1]["rank"] == 1
    bad = client.post("/v1/feedback", json={"ticket_id": "T-9", "article_id": "x", "action": "loved"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["loc"] == "body.action"


def test_kb_not_configured_is_a_clear_503(open_server):
    for path, body in (
        ("/v1/kb/search", {"query": "refund"}),
        ("/v1/feedback", {"ticket_id": "1", "article_id": "a", "action": "rejected"}),
    ):
        response = open_server.post(path, json=body)
        assert response.status_code == 503
        assert (
            response.json()["error"]["code"] == "kb_not_configured"
            and "--kb" in response.json()["error"]["message"]
        )


# --------------------------------------------------------------------------- webhooks
def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature": f"sha1={digest}", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "path",
    [EXAMPLES / "zammad_trigger.json", PAYLOADS / "zammad" / "webhook_default_payload.json"],
    ids=lambda p: p.name,
)
def test_zammad_webhook(secured, path):
    if not path.exists():
        pytest.skip(f"{path} not found (shared data)")
    client, _ = secured
    body = path.read_bytes()
    response = client.post("/v1/webhooks/zammad", content=body, headers=_signed(body))
    assert response.status_code == 200, response.text
    data = response.json()
    payload = json.loads(body)
    assert data["ticket_id"] == payload["ticket"]["number"]
    assert data["zammad_ticket_id"] == payload["ticket"]["id"]
    assert f"lang:{data['result']['language']}" in data["tags"]
    unsigned = client.post("/v1/webhooks/zammad", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "bad_signature"


def test_zammad_example_maps_to_a_german_customer_ticket():
    ticket = zammad_ticket(json.loads((EXAMPLES / "zammad_trigger.json").read_text()))
    assert ticket.id == "31412" and ticket.subject.startswith("Doppelte Abbuchung")
    assert [m.role for m in ticket.messages] == ["customer"] and "zweimal" in ticket.messages[0].text
    assert ticket.channel == "email" and ticket.customer_id == "j.berger@example.org"
    assert ticket.metadata["group"] == "Users" and ticket.metadata["priority"] == "2 normal"


@pytest.mark.parametrize(
    "path",
    [
        EXAMPLES / "znuny_ticket_generic.json",
        PAYLOADS / "znuny-otrs" / "invoker_ticket_generic_event_TicketStateUpdate.json",
        PAYLOADS / "znuny-otrs" / "invoker_ticket_generic_dynamicfield_webservice.json",
        PAYLOADS / "znuny-otrs" / "rest_ticketget_response_ligerosmart.json",
    ],
    ids=lambda p: p.name,
)
def test_znuny_webhook(secured, path):
    if not path.exists():
        pytest.skip(f"{path} not found (shared data)")
    client, _ = secured
    payload = json.loads(path.read_text())
    response = client.post("/v1/webhooks/znuny", json=payload)
    assert response.status_code == 200, response.text
    data = response.json()
    ticket = payload["Ticket"][0] if isinstance(payload["Ticket"], list) else payload["Ticket"]
    assert data["TicketNumber"] == str(ticket["TicketNumber"])
    assert {"Name": "TriageLanguage", "Value": data["result"]["language"]} in data["DynamicField"]
    assert data["result"]["errors"] == []


def test_znuny_articles_keep_roles_and_skip_duplicates():
    payload = (
        json.loads(
            (PAYLOADS / "znuny-otrs" / "invoker_ticket_generic_event_TicketStateUpdate.json").read_text()
        )
        if (PAYLOADS / "znuny-otrs").exists()
        else json.loads((EXAMPLES / "znuny_ticket_generic.json").read_text())
    )
    ticket = znuny_ticket(payload)
    assert len(ticket.messages) == 1  # Article and Articles[0] are the same article
    example = znuny_ticket(json.loads((EXAMPLES / "znuny_ticket_generic.json").read_text()))
    assert example.id == "2026112010000071" and example.subject == "Nem tudok bejelentkezni"
    assert example.created_at.year == 2026 and example.metadata["event"] == "ArticleCreate"


def test_webhook_payloads_that_are_not_tickets_are_422(secured):
    client, _ = secured
    body = json.dumps({"article": {"body": "hi"}}).encode()
    zammad = client.post("/v1/webhooks/zammad", content=body, headers=_signed(body))
    assert zammad.status_code == 422 and zammad.json()["error"]["fields"][0]["loc"] == "body.ticket"
    empty = json.dumps({"ticket": {"id": 1}}).encode()
    no_text = client.post("/v1/webhooks/zammad", content=empty, headers=_signed(empty))
    assert no_text.status_code == 422 and "no text" in no_text.json()["error"]["message"]
    znuny = client.post("/v1/webhooks/znuny", json={"Ticket": "nope"})
    assert znuny.status_code == 422 and znuny.json()["error"]["fields"][0]["loc"] == "body.Ticket"


def _predicted(abstained: bool) -> TriageResult:
    return TriageResult(
        ticket_id="X",
        language="de",
        category=Prediction(label="billing", score=0.91, abstained=abstained),
        priority=Prediction(label="high", score=0.8, abstained=abstained),
        sentiment=SentimentResult(
            label="negative",
            score=-0.7,
            confidence=0.9,
            cues=[Cue(kind="urgency", text="so schnell wie möglich", start=0, end=5)],
        ),
    )


def test_routing_uses_the_maps_and_respects_abstain():
    zammad = zammad_ticket(json.loads((EXAMPLES / "zammad_trigger.json").read_text()))
    routed = zammad_response(zammad, _predicted(False), {"billing": "Accounting"}, {"high": "3 high"})
    assert (routed.group, routed.priority) == ("Accounting", "3 high")
    assert routed.ticket_update.model_dump() == {"group": "Accounting", "priority": "3 high"}
    assert {"category:billing", "priority:high", "sentiment:negative", "cue:urgency"} <= set(routed.tags)
    held = zammad_response(zammad, _predicted(True), {"billing": "Accounting"}, {"high": "3 high"})
    assert held.group is None and held.priority is None and "triage-review" in held.tags
    znuny = znuny_ticket(json.loads((EXAMPLES / "znuny_ticket_generic.json").read_text()))
    update = znuny_response(znuny, _predicted(False), {"billing": "Finance"}, {"high": "4 high"})
    assert (
        update.Ticket.Queue == "Finance" and update.Ticket.Priority == "4 high" and update.TicketID == "2071"
    )
    fields = {f.Name: f.Value for f in update.DynamicField}
    assert fields["TriageCategory"] == "billing" and fields["TriageNeedsReview"] == "0"


# --------------------------------------------------------------------------- schemathesis
def test_schemathesis_finds_no_server_errors(secured):
    """Property-based run over every operation of the OpenAPI spec (bounded): no 5xx from bad input."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    client, _ = secured
    schema = schemathesis.openapi.from_url(f"{client.base_url}/openapi.json")
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        if operation.path == "/v1/webhooks/zammad":
            continue  # needs an HMAC signature per body on this server; covered above and by the benchmark

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(
                base_url=str(client.base_url),
                headers={"Authorization": f"Bearer {TOKEN}"},
                checks=[not_a_server_error],
            )  # raises (and the test fails, with the reproducing request) on any 5xx

        run()


# --------------------------------------------------------------------------- the `triage serve` command
def test_triage_serve_command(tmp_path):
    """`triage serve` as a user starts it: token from the environment, real port, clean exit on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    cfg = tmp_path / "pipeline.json"
    cfg.write_text(json.dumps({"steps": ["normalize", "language", "encode"]}))
    port = _free_port()
    env = {**os.environ, "TRIAGE_API_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "triage.cli", "serve", "--port", str(port), "--config", str(cfg),
           "--encoder", "hashing", "--max-batch", "2", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "triage serve did not become ready"
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        one = httpx.post(f"{base}/v1/triage", json={"body": "Nem tudok belépni a fiókomba."}, headers=auth)
        assert one.status_code == 200 and one.json()["language"] == "hu"
        three = httpx.post(f"{base}/v1/triage", json=[{"body": "a b c"}] * 3, headers=auth)
        assert three.status_code == 413  # --max-batch reached the app through the environment
        assert httpx.post(f"{base}/v1/triage", json={"body": "x"}).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it was SIGTERM
    assert proc.returncode in (0, -signal.SIGTERM) and "Traceback" not in stderr


def test_default_service_pipeline_masks_personal_data():
    """No config file: the service's Triager has redact=True, raw e-mails never reach a result."""
    with Server(create_app(ServiceSettings())) as server:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            server.wait_ready(client, timeout=120)
            body = {"id": "p1", "body": "Please write to anna.kovacs@example.hu about my refund, thanks."}
            response = client.post("/v1/triage", json=body)
    assert response.status_code == 200, response.text
    assert "anna.kovacs@example.hu" not in response.text
    assert response.json()["redactions"] == {"EMAIL": 1}
