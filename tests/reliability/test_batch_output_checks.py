"""Issue 20 item 8: output problems surface before scoring, not after hours of it.

``-o`` naming a folder, a parent that is a file or read-only, or a disk too small for the run (parts plus
the final file assembled from them: about twice the output) are refused at start with a message naming
the numbers; the projection is repeated at every commit; a failed assembly leaves no ``.tmp`` file and
keeps the committed parts for ``--resume``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from batch_helpers import backlog, env_with, fast_config, output_ids, run, score_cmd
from triage.batch.writers import FREE_BYTES_ENV

pytestmark = pytest.mark.slow


def _cmd(tmp_path, src, out, *args):
    # an encoder that cannot load: had anything been scored first, the error would name it instead
    return score_cmd(src, out, "--encoder", "no_such_module:make", "--config", fast_config(tmp_path), *args)


def _leftovers(folder):
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith((".tmp", ".parts"))
    )


def test_output_that_is_a_folder_is_refused_before_scoring(tmp_path):
    src = tmp_path / "in.jsonl"
    backlog(src, 5)
    for name in ("results", "out.jsonl"):
        (tmp_path / name).mkdir()
        done = run(_cmd(tmp_path, src, tmp_path / name), env_with(tmp_path))
        assert done.returncode == 2
        assert f"-o {tmp_path / name} is a folder: name the output file" in done.stderr, done.stderr
        assert "no_such_module" not in done.stderr and _leftovers(tmp_path) == []


def test_output_under_a_file_is_refused_before_scoring(tmp_path):
    src = tmp_path / "in.jsonl"
    backlog(src, 5)
    (tmp_path / "existing_file").write_text("not a folder")
    for out in (tmp_path / "existing_file" / "out.jsonl", tmp_path / "existing_file" / "sub" / "out.jsonl"):
        done = run(_cmd(tmp_path, src, out), env_with(tmp_path))
        assert done.returncode == 2
        assert f"{tmp_path / 'existing_file'} is a file, not a folder" in done.stderr, done.stderr
    assert _leftovers(tmp_path) == []


def test_too_little_free_space_is_refused_before_scoring(tmp_path):
    src = tmp_path / "in.jsonl"
    backlog(src, 200)
    size = src.stat().st_size
    out = tmp_path / "out.jsonl"
    done = run(_cmd(tmp_path, src, out), env_with(tmp_path, **{FREE_BYTES_ENV: "1000"}))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert f"not enough free space for {out}" in message, message
    assert f"at least 1 x the input's {size / 1024:.1f} KiB" in message and "has 1000 bytes free" in message
    assert "no_such_module" not in message and _leftovers(tmp_path) == []


def test_the_projection_at_each_commit_stops_early_and_resume_finishes(tmp_path):
    """The start estimate is low on purpose; the bytes per row measured at the first commit are not."""
    src = tmp_path / "in.jsonl"
    good = backlog(src, 300)
    out = tmp_path / "out.jsonl"
    cmd = score_cmd(src, out, "--encoder", "hashing", "--config", fast_config(tmp_path), "--chunk-size", "50")
    free = str(3 * src.stat().st_size)  # passes the start check (2 x the input), not the measured one
    done = run(cmd, env_with(tmp_path, **{FREE_BYTES_ENV: free}))
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "measured so far x 300 rows" in message and f"has {int(free) / 1024:.1f} KiB free" in message
    assert f"50 rows are committed in {tmp_path / 'out.jsonl.parts'}" in message and "--resume" in message
    assert not out.exists()
    resumed = run([*cmd, "--resume"], env_with(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1])["resumed_after_rows"] == 50
    assert output_ids(out) == good


# --------------------------------------------------------------------------- real filesystems (root only)
def _mount(*args: str) -> None:
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("needs root and mount(8)")
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@pytest.fixture
def mounts():
    mounted: list[str] = []
    yield mounted
    for target in reversed(mounted):
        subprocess.run(["umount", target], check=False)


def test_read_only_parent_is_refused_before_scoring(tmp_path, mounts):
    folder = tmp_path / "ro"
    folder.mkdir()
    _mount("--bind", str(folder), str(folder))
    mounts.append(str(folder))
    _mount("-o", "remount,bind,ro", str(folder))
    src = tmp_path / "in.jsonl"
    backlog(src, 5)
    done = run(_cmd(tmp_path, src, folder / "sub" / "out.jsonl"), env_with(tmp_path))
    assert done.returncode == 2
    assert f"{folder} is not writable (Read-only file system)" in done.stderr, done.stderr


def test_a_small_disk_is_refused_at_start(tmp_path, mounts):
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk))
    mounts.append(str(disk))
    src = tmp_path / "in.jsonl"
    backlog(src, 9000)  # about 700 KiB: twice that does not fit in 1 MiB
    done = run(_cmd(tmp_path, src, disk / "out.jsonl"), env_with(tmp_path))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert re.search(rf"needs about 1\.\d MiB .* but {disk} has (1\.0 MiB|10\d\d\.\d KiB) free", message), (
        message
    )
    assert os.listdir(disk) == []


def test_a_full_disk_during_assembly_leaves_no_tmp_file_and_resume_finishes(tmp_path, mounts):
    """The checks are bypassed (free bytes overridden): the parts fit, the final file does not."""
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk))
    mounts.append(str(disk))
    src = tmp_path / "in.jsonl"
    good = backlog(src, 2400)  # about 560 KiB of output: the parts fit in 1 MiB, twice that does not
    out = disk / "out.jsonl"
    cmd = score_cmd(
        src, out, "--encoder", "hashing", "--config", fast_config(tmp_path), "--chunk-size", "400"
    )
    done = run(cmd, env_with(tmp_path, **{FREE_BYTES_ENV: str(1 << 40)}))
    assert done.returncode == 2, done.stderr
    assert "No space left on device" in done.stderr and "2400 rows are committed" in done.stderr
    assert "--resume" in done.stderr
    assert sorted(p.name for p in disk.iterdir()) == ["out.jsonl.parts"]  # no .tmp file, no half output
    _mount("-o", "remount,size=4m", str(disk))
    resumed = run([*cmd, "--resume"], env_with(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    assert output_ids(out) == good
    assert sorted(p.name for p in disk.iterdir()) == [
        "out.jsonl",
        "out.jsonl.errors.jsonl",
        "out.jsonl.report.json",
    ]
