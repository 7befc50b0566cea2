"""The step registry: declarations order and check the pipeline, options are validated once, plugins load."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.config import TriageConfig
from triage.errors import ConfigError, TriageError
from triage.pipeline import Triager
from triage.steps import (
    BUILTIN_STEPS,
    ENTRY_POINT_GROUP,
    analyze,
    available_steps,
    get_step,
    register_step,
    unregister_step,
)

PLUGIN = '''
from typing import ClassVar

from pydantic import Field

from triage.steps import StepOptions


class ShoutOptions(StepOptions):
    suffix: str = "!"
    times: int = Field(1, ge=1, description="how many suffixes")


class ShoutStep:
    """Say the ticket's language out loud (a third-party step)."""

    name = "shout"
    requires: ClassVar[tuple[str, ...]] = ("result.language",)
    assigns: ClassVar[tuple[str, ...]] = ("result.warnings",)
    Options = ShoutOptions

    def __init__(self, context, options):
        self.text = options.suffix * options.times
        self.agent_language = context.config.agent_language

    def run(self, states):
        for state in states:
            said = state.result.language.upper() + self.text
            state.result.warnings.append(f"{said} ({self.agent_language})")
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch) -> str:
    """An installed distribution (a dist-info folder on sys.path) registering ``shout`` as an entry point."""
    (tmp_path / "triage_shout.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = tmp_path / "triage_shout-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: triage-shout\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nshout = triage_shout:ShoutStep\nbroken = triage_missing_module:Nope\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "shout"


def test_a_third_party_step_from_an_entry_point_runs_with_validated_options(plugin, encoder):
    assert plugin in available_steps()
    spec = get_step(plugin)
    assert spec.requires == ("result.language",) and spec.source.startswith("entry point")
    config = TriageConfig(
        steps=["normalize", "shout", "language", "encode"],
        options={"shout": {"suffix": "?", "times": 3}},
        agent_language="hu",
    )
    triager = Triager(config, encoder=encoder)
    assert triager.analysis.order == ["normalize", "language", "shout", "encode"]  # after its requirement
    result = triager({"body": "Die Rechnung ist doppelt abgebucht worden, bitte prüfen Sie das."})
    assert result.warnings == ["DE??? (hu)"]


def test_plugin_options_are_validated_when_the_pipeline_is_built(plugin):
    steps = ["normalize", "language", "shout"]
    with pytest.raises(ConfigError, match=r"options\.shout\.times: .*greater than or equal to 1"):
        Triager(TriageConfig(steps=steps, options={"shout": {"times": 0}}))
    with pytest.raises(ConfigError, match=r"unknown shout options \['loud'\]; known: \['suffix', 'times'\]"):
        Triager(TriageConfig(steps=steps, options={"shout": {"loud": True}}))


def test_a_plugin_that_fails_to_import_names_itself(plugin):
    with pytest.raises(ConfigError, match="'broken'.*triage_missing_module:Nope.*failed to import"):
        Triager(TriageConfig(steps=["normalize", "broken"]))


def test_a_missing_requirement_names_the_step_that_provides_it():
    with pytest.raises(ConfigError, match="'classify' requires state.embedding.*add 'encode' to steps"):
        Triager(TriageConfig(steps=["normalize", "language", "classify"]))


def test_steps_are_ordered_after_what_they_require():
    analysis = analyze(["summarize", "classify", "encode", "language", "redact", "normalize"])
    order = analysis.order
    assert order.index("normalize") < order.index("redact") < order.index("language")
    assert order.index("encode") < order.index("classify")
    assert analysis.problems == []
    # a step is skipped for a ticket only when the step producing its input failed, not a rewriter
    assert analysis.providers["language"] == ["normalize"]
    assert analysis.providers["classify"] == ["encode", "normalize"]


def test_a_cycle_is_reported():
    class Chicken:
        name = "chicken"
        requires = ("result.labels",)
        assigns = ("result.tags",)

        def __init__(self, context, options):
            pass

    class Egg(Chicken):
        name = "egg"
        requires = ("result.tags",)
        assigns = ("result.labels",)

    register_step(Chicken)
    register_step(Egg)
    try:
        assert any("cycle" in p for p in analyze(["chicken", "egg"]).problems)
    finally:
        unregister_step("chicken")
        unregister_step("egg")


def test_builtin_options_are_validated_with_one_error_type():
    cases = {
        "classify": ({"top_k": 0}, r"options\.classify\.top_k"),
        "summarize": ({"centrality": "magic"}, r"options\.summarize\.centrality"),
        "kb": ({}, r"the 'kb' step needs options\.kb\.path \(a knowledge base saved by"),
        "redact": ({"keep_mapping": "disk", "key": "s3cr3t-value"}, r"options\.redact\.keep_mapping"),
    }
    for step, (options, message) in cases.items():
        steps = ["normalize", "language", "encode", step]
        with pytest.raises(ConfigError, match=message) as caught:
            Triager(TriageConfig(steps=steps, options={step: options}))
        assert isinstance(caught.value, TriageError) and isinstance(caught.value, ValueError)
        assert "s3cr3t" not in str(caught.value)  # option values never appear in errors


def test_every_builtin_step_declares_its_contract():
    for name in BUILTIN_STEPS:
        spec = get_step(name)
        assert spec.name == name and spec.assigns and spec.description, name
        assert all(attr.split(".")[0] in ("state", "result") for attr in (*spec.requires, *spec.assigns))


def test_the_older_factory_registration_still_works(encoder):
    class Marker:
        name = "marker"
        requires = ("encode",)

        def run(self, states):
            for state in states:
                state.result.warnings.append("marked")

    register_step("marker", lambda triager: Marker())
    try:
        triager = Triager(TriageConfig(steps=["normalize", "encode", "marker"]), encoder=encoder)
        assert triager("Where is my parcel? It has been two weeks.").warnings == ["marked"]
    finally:
        unregister_step("marker")


def test_triage_steps_prints_the_analysis(tmp_path: Path, plugin):
    from triage.cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["steps"])
    assert shown.exit_code == 0, shown.output
    assert "4. classify" in shown.output and "assigns:  result.category" in shown.output
    assert "problems: none" in shown.output
    config = tmp_path / "pipeline.json"
    config.write_text(json.dumps({"steps": ["normalize", "shout"]}), encoding="utf-8")
    broken = runner.invoke(app, ["steps", "--config", str(config)])
    assert broken.exit_code == 1
    assert "problem: step 'shout' requires result.language" in broken.output
    assert "add 'language' to steps" in broken.output
