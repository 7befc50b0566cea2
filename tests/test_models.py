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
