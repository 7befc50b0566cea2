"""Nothing trusted blindly: every file a loader reads must be listed in its manifest and verified, and a
file that verifies but is not plain data (a pickled npz, garbage FAISS) is refused with the same error.

Each hole is tried on copies of the bundled heads (classifier, sentiment head), on a tagger and on a small
knowledge base and ticket index built here; every one must end in :class:`ModelIntegrityError`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import triage.bundled as bundled_data
import triage.models as models
from triage.classify import TicketClassifier, TicketTagger
from triage.kb import KnowledgeBase, TicketIndex
from triage.models import MANIFEST, ModelIntegrityError, write_manifest
from triage.sentiment.head import SentimentHead

REINSTALL = "pip install --force-reinstall helpdesk-triage"


class HashEncoder:
    """Words hashed into buckets, L2-normalised: a tiny real encoder, no model files."""

    dim = 256
    name = "test/hash-256"

    def encode(self, texts: list[str], *, kind: str = "query", batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


ARTICLES = [
    {"id": "reset", "title": "Reset your password", "body": "Choose forgot password and open the link."},
    {"id": "refund", "title": "When will I get my refund", "body": "Refunds reach your card in 5 days."},
]
TICKETS = [
    {"id": "T1", "text": "I cannot log in to my account", "resolution": "reset the password"},
    {"id": "T2", "text": "Where is my refund for order 12", "resolution": "refund issued"},
]


# ------------------------------------------------------------------------------------------ the targets
@pytest.fixture
def bundled(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled heads that triage treats as the bundled folder (the package is not touched)."""
    copy = tmp_path / "bundled-models"
    shutil.copytree(bundled_data.MODELS_DIR, copy)
    monkeypatch.setattr(bundled_data, "MODELS_DIR", copy)
    return copy


def _tagger(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 16)).astype(np.float32)
    tags = [["urgent"] if x[0] > 0 else [] for x in X]
    return TicketTagger(C=1.0).fit(X, tags).save(folder / "tagger")


def _kb(folder: Path) -> Path:
    KnowledgeBase.build(ARTICLES, HashEncoder()).save(folder / "kb")
    return folder / "kb"


def _tickets(folder: Path) -> Path:
    TicketIndex.build(TICKETS, HashEncoder()).save(folder / "tickets")
    return folder / "tickets"


def _version(store: Path) -> Path:
    return store / json.loads((store / "CURRENT.json").read_text())["version"]


#: name -> (make the target in tmp_path (bundled copy given), the folder holding its manifest, load it,
#: a file the loader reads, an .npz it reads or None, bundled or not)
Target = tuple[
    Callable[[Path, Path], Path], Callable[[Path], Path], Callable[[Path], object], str, str | None
]
TARGETS: dict[str, Target] = {
    "classifier": (
        lambda tmp, b: b / "bitext-category",
        lambda p: p,
        TicketClassifier.load,
        "examples.json",
        "weights.npz",
    ),
    "sentiment": (
        lambda tmp, b: b / "sentiment",
        lambda p: p,
        SentimentHead.load,
        "lexical_vocab.json",
        "lexical.npz",
    ),
    "sentiment-embedding": (
        lambda tmp, b: b / "sentiment",
        lambda p: p / "embedding",
        SentimentHead.load,
        "config.json",
        "weights.npz",
    ),
    "tagger": (lambda tmp, b: _tagger(tmp), lambda p: p, TicketTagger.load, "config.json", "weights.npz"),
    "kb": (
        lambda tmp, b: _kb(tmp),
        _version,
        lambda p: KnowledgeBase.load(p, HashEncoder()),
        "kb.sqlite",
        None,
    ),
    "tickets": (
        lambda tmp, b: _tickets(tmp),
        _version,
        lambda p: TicketIndex.load(p, HashEncoder()),
        "tickets.sqlite",
        None,
    ),
}
BUNDLED = {"classifier", "sentiment", "sentiment-embedding"}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def _write(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _reseal_outer(target: Path, folder: Path) -> None:
    """Re-hash the outer model's manifest when ``folder`` is a nested one (the attack is on the inner)."""
    if folder != target and (target / MANIFEST).exists():
        write_manifest(target, {k: v for k, v in _manifest(target).items() if k != "files"})


def _reseal(target: Path, folder: Path) -> None:
    """Re-hash ``folder`` (and the folder above it when it is a nested model) as a forger would."""
    write_manifest(folder, {k: v for k, v in _manifest(folder).items() if k != "files"})
    _reseal_outer(target, folder)


def _refused(name: str, target: Path, match: str) -> ModelIntegrityError:
    with pytest.raises(ModelIntegrityError, match=match) as info:
        TARGETS[name][2](target)
    message = str(info.value)
    if name in BUNDLED:
        assert REINSTALL in message, message
    else:
        assert "re-save" in message or "rebuild" in message, message
    return info.value


def _make(name: str, tmp_path: Path, bundled: Path) -> tuple[str, Path, Path]:
    make, folder_of, load, _, _ = TARGETS[name]
    target = make(tmp_path, bundled)
    load(target)  # intact: loads
    return name, target, folder_of(target)


@pytest.fixture(params=list(TARGETS))
def case(request, tmp_path, bundled) -> tuple[str, Path, Path]:
    """(target name, the path its loader opens, the folder whose manifest is attacked)."""
    return _make(request.param, tmp_path, bundled)


# ------------------------------------------------------------------------------------------ the holes
def test_an_empty_files_map_verifies_nothing_and_is_refused(case):
    name, target, folder = case
    _write(folder, {**_manifest(folder), "files": {}})
    _refused(name, target, "lists no files")


def test_a_file_left_out_of_the_manifest_is_refused(case):
    name, target, folder = case
    read = TARGETS[name][3]
    manifest = _manifest(folder)
    del manifest["files"][read]
    _write(folder, manifest)
    _refused(name, target, "not listed")


def test_an_extra_unlisted_file_beside_the_model_is_refused(case):
    name, target, folder = case
    if not (folder / "metrics.json").exists():  # the heads read it when present; the stores never wrote one
        (folder / "metrics.json").write_text('{"accuracy": 1.0}')
    manifest = _manifest(folder)
    manifest["files"].pop("metrics.json", None)
    _write(folder, manifest)
    _refused(name, target, "not listed")


def test_a_truncated_manifest_is_an_integrity_error(case):
    name, target, folder = case
    text = (folder / MANIFEST).read_text()
    (folder / MANIFEST).write_text(text[: len(text) // 2])
    _refused(name, target, "unreadable or truncated")


def test_a_manifest_that_is_not_a_files_map_is_an_integrity_error(case):
    name, target, folder = case
    _write(folder, {**_manifest(folder), "files": ["weights.npz"]})
    _refused(name, target, "no valid")


def test_zeroed_weights_left_out_of_the_manifest_are_refused(case):
    name, target, folder = case
    weights = TARGETS[name][4] or "dense.faiss"
    path = folder / weights
    path.write_bytes(b"\0" * path.stat().st_size)
    manifest = _manifest(folder)
    del manifest["files"][weights]
    _write(folder, manifest)
    _reseal_outer(target, folder)
    _refused(name, target, "not listed")


def test_zeroed_weights_with_a_forged_manifest_are_refused(case):
    name, target, folder = case
    weights = TARGETS[name][4] or "dense.faiss"
    path = folder / weights
    path.write_bytes(b"\0" * path.stat().st_size)
    _reseal(target, folder)
    _refused(name, target, "not a plain numpy archive" if weights.endswith(".npz") else "not a FAISS index")


@pytest.mark.parametrize("name", [n for n, t in TARGETS.items() if t[4]])  # the stores keep FAISS, no npz
def test_a_pickled_npz_is_refused_even_with_a_forged_manifest(name, tmp_path, bundled):
    name, target, folder = _make(name, tmp_path, bundled)
    weights = TARGETS[name][4]
    assert weights is not None
    with np.load(folder / weights, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    first = sorted(arrays)[0]
    arrays[first] = np.array([{"exploit": 1}, None], dtype=object)  # needs pickle to load
    np.savez(folder / weights, **arrays)
    _reseal(target, folder)
    _refused(name, target, "not a plain numpy archive")


@pytest.mark.parametrize("name", ["kb", "tickets"])
def test_garbage_faiss_with_a_forged_manifest_is_refused(tmp_path, name):
    make, folder_of, _, _, _ = TARGETS[name]
    target = make(tmp_path, tmp_path)
    folder = folder_of(target)
    (folder / "dense.faiss").write_bytes(b"IxMp" + bytes(range(7, 71)))  # a plausible header, then noise
    _reseal(target, folder)
    _refused(name, target, "not a FAISS index")


@pytest.mark.parametrize("name", ["kb", "tickets"])
def test_a_damaged_store_table_with_a_forged_manifest_is_refused(tmp_path, name):
    make, folder_of, _, read, _ = TARGETS[name]
    target = make(tmp_path, tmp_path)
    folder = folder_of(target)
    (folder / read).write_bytes(b"not a database" * 100)
    _reseal(target, folder)
    _refused(name, target, "not a readable")


def test_np_load_never_allows_pickle():
    """No ``np.load`` in the package allows pickle; the loaders of models and stores say so explicitly."""
    src = Path(models.__file__).parent
    explicit = [src / "persist.py", src / "classify", src / "sentiment" / "head.py", src / "kb"]
    calls = re.compile(r"np\.load\(([^()]*(?:\([^()]*\))?[^()]*)\)")
    offenders = []
    for path in src.rglob("*.py"):
        must_say = any(path == e or e in path.parents for e in explicit)
        for match in calls.finditer(path.read_text(encoding="utf-8")):
            args = match.group(1)
            if "allow_pickle=True" in args or (must_say and "allow_pickle=False" not in args):
                offenders.append(f"{path.relative_to(src)}: {match.group(0)}")
    assert not offenders, offenders


def test_the_cli_refuses_zeroed_unlisted_weights_with_a_message_not_a_traceback(tmp_path, bundled):
    """The reported case: a zeroed weights.npz left out of the manifest used to classify with score null."""
    model = tmp_path / "category"
    shutil.copytree(bundled / "bitext-category", model)
    (model / "weights.npz").write_bytes(b"\0" * (model / "weights.npz").stat().st_size)
    manifest = _manifest(model)
    del manifest["files"]["weights.npz"]
    _write(model, manifest)
    proc = subprocess.run(
        [sys.executable, "-m", "triage.cli", "classify", "my parcel is late", "--model", str(model)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "weights.npz is not listed" in proc.stderr and "re-save" in proc.stderr
    assert "Traceback" not in proc.stderr and not proc.stdout
