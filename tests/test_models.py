from __future__ import annotations

import pytest

from triage.models import ModelIntegrityError, verify_manifest, write_manifest


def test_manifest_detects_tampering(tmp_path):
    (tmp_path / "weights.npz").write_bytes(b"abc")
    (tmp_path / "config.json").write_text("{}")
    manifest = write_manifest(tmp_path, {"kind": "test"})
    assert set(manifest["files"]) == {"weights.npz", "config.json"}
    assert verify_manifest(tmp_path)["kind"] == "test"
    (tmp_path / "weights.npz").write_bytes(b"abd")
    with pytest.raises(ModelIntegrityError, match="does not match"):
        verify_manifest(tmp_path)


def test_manifest_refuses_pickles_and_missing_manifest(tmp_path):
    with pytest.raises(ModelIntegrityError, match="no manifest"):
        verify_manifest(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04")
    write_manifest(tmp_path)
    with pytest.raises(ModelIntegrityError, match="unsupported file type"):
        verify_manifest(tmp_path)


def test_manifest_refuses_dropped_in_files_and_escaping_names(tmp_path):
    (tmp_path / "weights.npz").write_bytes(b"abc")
    write_manifest(tmp_path)
    (tmp_path / "extra.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(ModelIntegrityError, match="did not write"):
        verify_manifest(tmp_path)
    (tmp_path / "extra.pkl").unlink()
    import json

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["files"]["../outside.json"] = "0" * 64
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="outside"):
        verify_manifest(tmp_path)


def test_staged_directory_swaps_in_on_success_and_keeps_the_old_one_on_error(tmp_path):
    import os

    from triage.models import current_umask, staged_directory

    target = tmp_path / "model"
    with staged_directory(target) as tmp:
        (tmp / "config.json").write_text("{}")
    assert (target / "config.json").read_text() == "{}"
    assert target.stat().st_mode & 0o777 == 0o777 & ~current_umask()  # not mkdtemp's 0700

    try:
        with staged_directory(target) as tmp:
            (tmp / "config.json").write_text('{"half": true}')
            raise RuntimeError("crash while saving")
    except RuntimeError:
        pass
    assert (target / "config.json").read_text() == "{}"
    assert sorted(os.listdir(tmp_path)) == ["model"]  # the partial folder is gone


# ------------------------------------------------------------------------------------ bundled models
REINSTALL = "pip install --force-reinstall helpdesk-triage"


@pytest.fixture
def bundled_copy(tmp_path, monkeypatch):
    """A copy of the bundled heads that ``triage.models`` treats as the bundled folder (the package's own
    files are never touched)."""
    import shutil

    import triage.bundled as bundled

    copy = tmp_path / "bundled-models"
    shutil.copytree(bundled.MODELS_DIR, copy)
    monkeypatch.setattr(bundled, "MODELS_DIR", copy)
    return copy


def test_bundled_heads_are_package_data_and_verify():
    from importlib import resources

    from triage.models import BUNDLED_MODELS_DIR, SHIPPED_MODELS, bundled_models, resolve_model_dir

    assert BUNDLED_MODELS_DIR == resources.files("triage.bundled") / "models"
    assert set(SHIPPED_MODELS) <= set(bundled_models())
    for name in SHIPPED_MODELS:
        assert verify_manifest(resolve_model_dir(name))["files"]


def test_tampered_bundled_file_says_to_reinstall_the_package(bundled_copy):
    from triage.models import is_bundled, resolve_model_dir

    directory = resolve_model_dir("bitext-category")
    assert directory == bundled_copy / "bitext-category" and is_bundled(directory)
    with open(directory / "config.json", "a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(ModelIntegrityError, match="does not match") as info:
        verify_manifest(directory)
    assert REINSTALL in str(info.value) and "helpdesk-triage" in str(info.value)


def test_missing_bundled_file_or_head_says_to_reinstall_the_package(bundled_copy):
    import shutil

    from triage.errors import TriageError
    from triage.models import resolve_model_dir

    (bundled_copy / "sentiment" / "embedding" / "weights.npz").unlink()
    with pytest.raises(ModelIntegrityError, match="missing") as info:
        verify_manifest(resolve_model_dir("sentiment") / "embedding")
    assert REINSTALL in str(info.value)

    shutil.rmtree(bundled_copy / "bitext-intent")
    with pytest.raises(TriageError, match="missing from the installed package") as info:
        resolve_model_dir("bitext-intent")
    assert REINSTALL in str(info.value)
    with pytest.raises(TriageError, match="not found") as info:
        resolve_model_dir("no-such-model")
    assert "force-reinstall" not in str(info.value)


def test_own_model_errors_do_not_blame_the_installation(tmp_path):
    (tmp_path / "weights.npz").write_bytes(b"abc")
    write_manifest(tmp_path)
    (tmp_path / "weights.npz").write_bytes(b"abd")
    with pytest.raises(ModelIntegrityError, match="re-save the model") as info:
        verify_manifest(tmp_path)
    assert "force-reinstall" not in str(info.value)


def test_bundled_samples_have_public_paths(capsys):
    from triage.bundled import __main__ as bundled_main
    from triage.bundled import sample_kb_path, sample_tickets_path
    from triage.io import read_records

    tickets = [r.data for r in read_records(sample_tickets_path()) if r.data is not None]
    assert len(tickets) == 30
    assert len(list(sample_kb_path().glob("*.md"))) > 20
    assert bundled_main.main(["kb"]) == 0
    assert capsys.readouterr().out.strip() == str(sample_kb_path())
    assert bundled_main.main(["nonsense"]) == 2
    assert "usage" in capsys.readouterr().err


# ------------------------------------------------------------------------------- nothing unlisted, no pickle
def test_required_files_must_be_listed_and_nothing_unlisted_may_sit_beside_them(tmp_path):
    import json

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "weights.npz").write_bytes(b"abc")
    write_manifest(tmp_path)
    assert verify_manifest(tmp_path, required=["config.json", "weights.npz"])["files"]
    (tmp_path / "notes.txt").write_text("dropped in")
    verify_manifest(tmp_path)  # without required: a data file nobody reads is tolerated, as before
    with pytest.raises(ModelIntegrityError, match="notes.txt is not listed"):
        verify_manifest(tmp_path, required=["config.json"])
    (tmp_path / "notes.txt").unlink()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    del manifest["files"]["weights.npz"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="weights.npz is not listed"):
        verify_manifest(tmp_path, required=["config.json", "weights.npz"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"files": {"config.json": "ab', "unreadable or truncated"),
        ('{"files": {}}', "lists no files"),
        ('{"files": ["config.json"]}', "no valid"),
        ("[1, 2]", "no valid"),
        ("\xff\xfe", "unreadable or truncated"),
    ],
)
def test_a_broken_manifest_is_an_integrity_error_that_says_how_to_fix_it(tmp_path, text, match):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "manifest.json").write_text(text, encoding="latin-1")
    with pytest.raises(ModelIntegrityError, match=match) as info:
        verify_manifest(tmp_path)
    assert "re-save the model" in str(info.value)


def test_load_arrays_reads_plain_npz_and_refuses_pickles_garbage_and_missing_keys(tmp_path):
    import numpy as np

    from triage.models import load_arrays

    np.savez(tmp_path / "plain.npz", coef=np.eye(2, dtype=np.float32))
    assert load_arrays(tmp_path / "plain.npz", ["coef"])["coef"].shape == (2, 2)
    with pytest.raises(ModelIntegrityError, match=r"lacks the arrays \['bias'\]"):
        load_arrays(tmp_path / "plain.npz", ["coef", "bias"])
    np.savez(tmp_path / "pickled.npz", coef=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelIntegrityError, match="not a plain numpy archive.*never pickles"):
        load_arrays(tmp_path / "pickled.npz")
    for junk in (b"", b"\0" * 64, b"PK\x03\x04 truncated zip"):
        (tmp_path / "junk.npz").write_bytes(junk)
        with pytest.raises(ModelIntegrityError, match="not a plain numpy archive"):
            load_arrays(tmp_path / "junk.npz")
