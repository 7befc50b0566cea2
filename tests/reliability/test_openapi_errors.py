"""Every status the service can answer on a route is in that route's OpenAPI responses, with the error shape.

The spec is read as a client reads it (``/openapi.json`` with the token); then requests that really produce
400, 401, 413, 422, 500, 503 and 504 on each route are checked against what the spec documents for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from triage.batch.hashing import HashingEncoder  # noqa: E402
from triage.config import TriageConfig  # noqa: E402
from triage.pipeline import Triager  # noqa: E402
from triage.service import ServiceSettings, create_app  # noqa: E402
from triage.service.errors import ErrorResponse  # noqa: E402

TOKEN = "openapi-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}
MAX_BODY = 4096

POSTS = ["/v1/triage", "/v1/kb/search", "/v1/feedback", "/v1/webhooks/zammad", "/v1/webhooks/znuny"]
#: What each route can answer besides 200, and why (see triage.service.app).
EXPECTED: dict[tuple[str, str], set[int]] = {
    ("/healthz", "get"): {400, 413, 500},  # body limit middleware, unexpected errors
    ("/readyz", "get"): {400, 413, 500, 503},  # + models loading / failed
    **{(path, "post"): {400, 401, 413, 422, 499, 500, 503, 504} for path in POSTS},
}


class GatedTriager(Triager):
    """A model-free triager: a ticket with id ``gate`` waits for :attr:`gate`, one with id ``boom`` raises."""

    def __init__(self) -> None:
        super().__init__(TriageConfig(steps=["normalize"]), encoder=HashingEncoder())
        self.gate = threading.Event()

    def triage_batch(self, records: Sequence[Any], *, start_index: int = 0) -> list[Any]:
        ids = {getattr(r, "id", None) for r in records}
        if "boom" in ids:
            raise RuntimeError("an unexpected failure inside the pipeline")
        if "gate" in ids:
            self.gate.wait(120)
        return super().triage_batch(records, start_index=start_index)


class BrokenTriager:
    """Loading fails: the service answers 503 load_failed on every route that needs the models."""

    def __call__(self, tickets: Any) -> Any:
        raise RuntimeError("model files unreadable")


def _client(settings: ServiceSettings, triager: Any) -> Iterator[TestClient]:
    app = create_app(settings, triager=triager)
    # raise_server_exceptions=False: a 500 comes back as the response the client sees
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.triage.loaded.wait(60), "model loading did not end"
        yield client


@pytest.fixture(scope="module")
def gated() -> GatedTriager:
    return GatedTriager()


@pytest.fixture(scope="module")
def client(gated: GatedTriager) -> Iterator[TestClient]:
    settings = ServiceSettings(api_token=TOKEN, max_body_bytes=MAX_BODY, max_batch=2, timeout_s=0.5)
    try:
        yield from _client(settings, gated)
    finally:
        gated.gate.set()


@pytest.fixture(scope="module")
def broken() -> Iterator[TestClient]:
    yield from _client(ServiceSettings(api_token=TOKEN), BrokenTriager())


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    assert client.get("/openapi.json").status_code == 401  # the spec is behind the token too
    response = client.get("/openapi.json", headers=AUTH)
    assert response.status_code == 200
    return response.json()


def _documented(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return {k: v for k, v in spec["paths"][path][method]["responses"].items() if k != "200"}


def _check(spec: dict[str, Any], path: str, method: str, response: Any, status: int) -> dict[str, Any]:
    """``response`` has ``status``, documented for the route, and the documented error shape."""
    assert response.status_code == status, (path, response.status_code, response.text)
    documented = _documented(spec, path, method)
    assert str(status) in documented, (
        f"{method.upper()} {path} answers {status}, not in its OpenAPI responses"
    )
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    error = ErrorResponse.model_validate(body).error
    assert error.code and error.message
    return body["error"]


def test_every_route_documents_each_status_it_can_return_with_the_error_shape(spec: dict[str, Any]) -> None:
    routes = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert routes == set(EXPECTED), "a route was added or removed: list the statuses it can return here"
    schemas = spec["components"]["schemas"]
    assert {"error"} <= set(schemas["ErrorResponse"]["properties"])
    for (path, method), statuses in EXPECTED.items():
        documented = _documented(spec, path, method)
        assert {int(s) for s in documented} == statuses, (path, sorted(documented))
        for status, entry in documented.items():
            schema = entry["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
            assert entry["description"], (path, status)


def test_unreadable_bodies_are_documented_400s(client: TestClient, spec: dict[str, Any]) -> None:
    """A body that is not UTF-8 JSON, or a broken Content-Length, is a 400 in the documented shape."""
    for path in POSTS:
        response = client.post(path, content=b'{"body": "caf\xe9"}', headers={**AUTH, **JSON})
        error = _check(spec, path, "post", response, 400)
        assert error["code"] == "bad_request" and "UTF-8" in error["message"]
        nested = client.post(path, content=b"[" * 2000 + b"]" * 2000, headers={**AUTH, **JSON})
        assert "nested too deeply" in _check(spec, path, "post", nested, 400)["message"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, headers={"Content-Length": "-5"})
        error = _check(spec, path, "get", response, 400)
        assert "Content-Length" in error["message"]


def test_malformed_json_is_a_documented_422_naming_the_position(
    client: TestClient, spec: dict[str, Any]
) -> None:
    for path in POSTS:
        response = client.post(path, content=b'{"body": "x"', headers={**AUTH, **JSON})
        error = _check(spec, path, "post", response, 422)
        assert error["fields"] and error["fields"][0]["type"] == "json_invalid"


def test_auth_size_and_validation_errors_are_documented(client: TestClient, spec: dict[str, Any]) -> None:
    for path in POSTS:
        _check(spec, path, "post", client.post(path, json={"body": "hello"}), 401)
        big = b'{"body": "' + b"x" * MAX_BODY + b'"}'
        _check(spec, path, "post", client.post(path, content=big, headers={**AUTH, **JSON}), 413)
        _check(spec, path, "post", client.post(path, json=[1, 2], headers=AUTH), 422)
    for path in ("/healthz", "/readyz"):
        response = client.request("GET", path, content=b"x" * (MAX_BODY + 1))
        _check(spec, path, "get", response, 413)
    many = [{"body": "a"}] * 3  # max_batch is 2
    error = _check(spec, "/v1/triage", "post", client.post("/v1/triage", json=many, headers=AUTH), 413)
    assert error["code"] == "batch_too_large"


def test_not_configured_unexpected_and_timeout_errors_are_documented(
    client: TestClient, gated: GatedTriager, spec: dict[str, Any]
) -> None:
    for path, body in (
        ("/v1/kb/search", {"query": "where is my order"}),
        ("/v1/feedback", {"ticket_id": "T1", "article_id": "a1", "action": "accepted"}),
    ):
        error = _check(spec, path, "post", client.post(path, json=body, headers=AUTH), 503)
        assert error["code"] == "kb_not_configured"
    boom = client.post("/v1/triage", json={"id": "boom", "body": "hello"}, headers=AUTH)
    error = _check(spec, "/v1/triage", "post", boom, 500)
    assert error["code"] == "internal_error" and "unexpected failure" not in error["message"]
    # The gated ticket waits until the test opens the gate, so it always outlives the 0.5 s limit.
    try:
        late = client.post("/v1/triage", json={"id": "gate", "body": "hello"}, headers=AUTH)
        assert _check(spec, "/v1/triage", "post", late, 504)["code"] == "timeout"
    finally:
        gated.gate.set()
    assert client.post("/v1/triage", json={"id": "after", "body": "hello"}, headers=AUTH).status_code == 200


def test_models_that_failed_to_load_give_documented_503s(broken: TestClient, spec: dict[str, Any]) -> None:
    _check(spec, "/readyz", "get", broken.get("/readyz"), 503)
    bodies = {
        "/v1/triage": {"body": "hello"},
        "/v1/kb/search": {"query": "hello"},
        "/v1/feedback": {"ticket_id": "T1", "article_id": "a1", "action": "accepted"},
        "/v1/webhooks/zammad": {"ticket": {"title": "Login"}, "article": {"body": "I cannot log in."}},
        "/v1/webhooks/znuny": {"Ticket": {"Title": "Login", "Article": [{"Body": "I cannot log in."}]}},
    }
    for path, body in bodies.items():
        error = _check(spec, path, "post", broken.post(path, json=body, headers=AUTH), 503)
        assert error["code"] == "load_failed", (path, error)
