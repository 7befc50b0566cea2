"""The built wheel works on its own: installed into a fresh virtual environment outside the checkout.

The wheel is built from this working tree and installed with pip (dependencies from the configured package
index) into a new venv without torch and without the checkout's site-packages. From a temporary folder, with
an empty ``TRIAGE_CACHE_DIR`` and ``HOME``, it runs ``triage demo``, ``triage score`` and the Python API, then
checks that a modified bundled file is reported with the reinstall command. Each phase prints its wall time
(``pytest -s``); nothing asserts on time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
REINSTALL = "pip install --force-reinstall helpdesk-triage"
TICKETS = [
    {"id": "W-1", "subject": "Login", "body": "I cannot log in to my account, the reset link does not work."},
    {"id": "W-2", "subject": "Paket", "body": "Mein Paket ist seit zwei Wochen nicht angekommen. Wo ist es?"},
    {"id": "W-3", "subject": "Számla", "body": "Kétszer terheltek a kártyámra ugyanazért a rendelésért."},
]


class Installed:
    """A fresh venv with the wheel installed, and a runner for commands in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.bin = self.venv / "bin"
        self.work = root / "work"  # the cwd of every command: outside the checkout
        dropped = ("PYTHON", "VIRTUAL_ENV", "TRIAGE_")  # nothing from the checkout's environment leaks in
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        self.env.update(
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            TRIAGE_CACHE_DIR=str(root / "cache"),
            HOME=str(root / "home"),
            PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        self.times: dict[str, float] = {}

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command with the venv's environment, cwd outside the checkout; fail with its output."""
        proc = subprocess.run(
            [str(a) for a in args],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"{' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def python(self, code: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``code`` with the venv's Python."""
        return self.run(self.bin / "python", "-c", code, check=check)

    def phase(self, name: str, started: float) -> None:
        """Record and print the wall time of a phase (for the report; no assertion reads it)."""
        self.times[name] = time.perf_counter() - started
        print(f"[wheel-install] {name}: {self.times[name]:.1f} s", flush=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Installed]:
    """Build the wheel, make the venv and pip install the wheel into it (one per test module)."""
    root = tmp_path_factory.mktemp("wheel-install")
    assert REPO not in root.parents, "the venv must live outside the checkout"
    inst = Installed(root)
    for folder in (inst.work, root / "home", root / "cache"):
        folder.mkdir()

    started = time.perf_counter()
    dist = root / "dist"
    inst.run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist, REPO)
    (wheel,) = dist.glob("helpdesk_triage-*.whl")
    inst.phase("build wheel", started)
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "triage/bundled/models/bitext-category/manifest.json",
        "triage/bundled/models/bitext-intent/weights.npz",
        "triage/bundled/models/sentiment/embedding/weights.npz",
        "triage/bundled/samples/tickets.jsonl",
        "triage/bundled/samples/kb/double-charge.hu.md",
        "triage/py.typed",
    ):
        assert needed in names, f"{needed} is not in {wheel.name}"

    started = time.perf_counter()
    inst.run(sys.executable, "-m", "venv", inst.venv)
    inst.phase("create venv", started)

    started = time.perf_counter()
    inst.run(inst.bin / "python", "-m", "pip", "install", "--quiet", wheel)
    inst.phase("pip install wheel + deps", started)
    yield inst
    print(f"[wheel-install] phases: {json.dumps({k: round(v, 1) for k, v in inst.times.items()})}")


def test_installed_package_is_the_wheel_without_torch(installed: Installed) -> None:
    started = time.perf_counter()
    where = installed.python("import triage; print(triage.__file__)").stdout.strip()
    assert Path(where).is_relative_to(installed.venv), f"triage imported from {where}, not the venv"
    no_torch = installed.python("import importlib.util as u; print(u.find_spec('torch') is None)")
    assert no_torch.stdout.strip() == "True", "torch must not be installed by the wheel's dependencies"
    version = installed.run(installed.bin / "triage", "--version").stdout
    dist = installed.python("import importlib.metadata as m; print(m.version('helpdesk-triage'))").stdout
    assert version.split()[-1] == dist.strip()
    info = installed.run(installed.bin / "triage", "info").stdout
    engine = re.search(r"active engine:\s*(\S+)", info)
    # Soft check: which encoder engine a plain `pip install` gets (the fast ONNX one needs no torch).
    print(f"[wheel-install] triage info engine: {engine.group(1) if engine else 'not reported'}")
    installed.phase("import checks + triage info", started)


def test_demo_runs_from_the_installed_wheel(installed: Installed) -> None:
    started = time.perf_counter()
    proc = installed.run(installed.bin / "triage", "demo", "--output", installed.root / "demo")
    installed.phase("triage demo", started)
    assert "language correct on 30/30" in proc.stdout, proc.stdout + proc.stderr
    assert len((installed.root / "demo" / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 30


def test_score_and_python_api_from_the_installed_wheel(installed: Installed) -> None:
    tickets = installed.work / "three.jsonl"
    tickets.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in TICKETS), encoding="utf-8")
    started = time.perf_counter()
    installed.run(installed.bin / "triage", "score", tickets, "-o", installed.work / "scored.jsonl")
    installed.phase("triage score (3 rows)", started)
    scored = (installed.work / "scored.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in scored.splitlines()]
    assert [r["ticket_id"] for r in rows] == ["W-1", "W-2", "W-3"]
    assert [r["language"] for r in rows] == ["en", "de", "hu"]

    started = time.perf_counter()
    api = installed.python(
        "import json\n"
        "from triage import Triager\n"
        "from triage.bundled import MODELS_DIR\n"
        f"result = Triager()({TICKETS[0]!r})\n"
        "config = json.loads((MODELS_DIR / 'bitext-category' / 'config.json').read_text(encoding='utf-8'))\n"
        "print(json.dumps({'label': result.category.label, 'classes': config['classes']}))\n"
    )
    installed.phase("Python API (one ticket)", started)
    out = json.loads(api.stdout.strip().splitlines()[-1])
    assert out["label"] in out["classes"], out


def test_modified_bundled_file_names_the_package_to_reinstall(installed: Installed) -> None:
    """Runs last: it damages the installed copy (the venv is thrown away afterwards)."""
    config = Path(installed.python("from triage.bundled import MODELS_DIR; print(MODELS_DIR)").stdout.strip())
    target = config / "bitext-category" / "config.json"
    target.write_text(target.read_text(encoding="utf-8") + " ", encoding="utf-8")
    api = installed.python(f"from triage import Triager; Triager()({TICKETS[0]!r})", check=False)
    assert api.returncode != 0 and "ModelIntegrityError" in api.stderr, api.stderr
    assert REINSTALL in api.stderr, api.stderr
    demo = installed.run(installed.bin / "triage", "demo", "--output", installed.root / "demo2", check=False)
    assert demo.returncode == 2, demo.stdout + demo.stderr
    message = " ".join(demo.stderr.split())  # the terminal may wrap the line
    assert "Traceback" not in message and "bitext-category" in message and REINSTALL in message, message
