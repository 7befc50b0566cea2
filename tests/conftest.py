"""Shared fixtures: one real encoder and triager per test session (models load once)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "src" / "triage" / "bundled" / "samples" / "tickets.jsonl"
#: Where the tests keep their converted multilingual-e5-small (built once, reused by later runs).
TEST_CACHE = Path(os.environ.get("TRIAGE_TEST_CACHE_DIR", Path.home() / ".cache" / "triage-test"))
E5_DIR = TEST_CACHE / "models" / "multilingual-e5-small"


@pytest.fixture(scope="session")
def converted_e5() -> Path:
    """The converted multilingual-e5-small (``triage models convert-e5``), about a minute the first time.

    Needs only the core dependencies (no torch): the ONNX int8 engine is built from the weights with numpy.
    """
    from triage.encoders.convert import convert_e5
    from triage.encoders.selection import CONVERSION_MODULES

    for module in CONVERSION_MODULES:
        pytest.importorskip(module)

    return convert_e5(E5_DIR)


@pytest.fixture(scope="session")
def encoder():
    from triage.encoders import get_encoder

    return get_encoder("default")


@pytest.fixture(scope="session")
def triager(encoder):
    from triage.pipeline import Triager

    return Triager(encoder=encoder)


@pytest.fixture(scope="session")
def sample_tickets() -> list[dict]:
    return [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
