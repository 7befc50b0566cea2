"""Shared fixtures: one real encoder and triager per test session (models load once)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "tickets.jsonl"


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
