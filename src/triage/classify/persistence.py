"""A head's learned state, declared once: a table of :class:`Stored` fields drives both ``save`` and ``load``.

Each head lists its fitted attributes in a class-level ``_state`` tuple, each with where it lives: a key of
``config.json`` (dotted for a nested key, ``"encoder.name"``), an array of ``weights.npz``, or a JSON file of
its own. :func:`dump_state` writes the table into a folder being saved and :func:`load_state` reads it back,
so an attribute is named in one place. The folder itself -- staged, hashed into a manifest, swapped in whole,
verified before reading -- is :func:`triage.persist.saving` / :func:`triage.persist.opening`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from triage.errors import InputError, ModelIntegrityError
from triage.persist import load_arrays, read_json

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.npz"


@dataclass(frozen=True)
class Stored:
    """One learned attribute and where a saved head keeps it.

    Args:
        attr: the attribute (``coef_``).
        where: ``"config"`` (a key of ``config.json``), ``"array"`` (in ``weights.npz``) or ``"json"`` (a
            JSON file of its own).
        key: the config key (dotted for nested), the array name, or the file name.
        save / load: attribute value -> stored value, and back (default: as is).
        default: makes the field optional on load: called for the value when it is absent (older saves).
        indent: JSON indentation of a ``"json"`` file (``None``: compact, for long lists).
    """

    attr: str
    where: Literal["config", "array", "json"]
    key: str
    save: Callable[[Any], Any] | None = None
    load: Callable[[Any], Any] | None = None
    default: Callable[[], Any] | None = None
    indent: int | None = 2


def object_array(values: list[str]) -> np.ndarray:
    """Labels read from JSON as the object array a fitted head holds (``classes_``, ``tags_``)."""
    return np.array(values, dtype=object)


def write_json_file(path: Path, data: Any, *, indent: int | None = 2) -> None:
    """Write ``data`` as UTF-8 JSON, keys in their order."""
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=False), encoding="utf-8")


def dump_state(
    model: Any,
    fields: Sequence[Stored],
    folder: Path,
    config: dict[str, Any],
    *,
    arrays: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Write ``model``'s ``fields`` into ``folder``; returns ``config`` with its fields added (unwritten).

    ``arrays``: further arrays saved in ``weights.npz`` after the table's own.
    """
    weights: dict[str, np.ndarray] = {}
    for field in fields:
        value = getattr(model, field.attr)
        if field.save is not None:
            value = field.save(value)
        if field.where == "config":
            *parents, last = field.key.split(".")
            node = config
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        elif field.where == "array":
            weights[field.key] = value
        else:
            write_json_file(folder / field.key, value, indent=field.indent)
    weights.update(arrays or {})
    if weights:
        np.savez_compressed(folder / WEIGHTS_FILE, **weights)
    return config


def required_files(fields: Iterable[Stored]) -> list[str]:
    """The files a loader of ``fields`` reads whatever the config says (for ``opening(required=...)``)."""
    names = [CONFIG_FILE]
    for field in fields:
        name = WEIGHTS_FILE if field.where == "array" else field.key if field.where == "json" else None
        if name is not None and name not in names and (field.where == "array" or field.default is None):
            names.append(name)
    return names


_ABSENT = object()


def _config_value(config: dict[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def load_state(
    model: Any,
    fields: Sequence[Stored],
    directory: Path,
    config: dict[str, Any],
    *,
    arrays: Iterable[str] = (),
) -> dict[str, np.ndarray]:
    """Set ``model``'s ``fields`` from a verified saved folder; returns the arrays of ``weights.npz``.

    ``arrays``: further arrays ``weights.npz`` must hold (the caller reads them from the result).
    """
    keys = [f.key for f in fields if f.where == "array"] + list(arrays)
    weights = load_arrays(directory / WEIGHTS_FILE, keys) if keys else {}
    for field in fields:
        if field.where == "config":
            value = _config_value(config, field.key)
        elif field.where == "array":
            value = weights[field.key]
        else:
            path = directory / field.key
            value = read_json(path) if path.exists() else _ABSENT
        if value is _ABSENT:
            if field.default is None:
                raise ModelIntegrityError(
                    f"{directory / (CONFIG_FILE if field.where == 'config' else field.key)} lacks "
                    f"{field.key!r}: restore the original files or re-save the model"
                )
            value = field.default()
        elif field.load is not None:
            value = field.load(value)
        setattr(model, field.attr, value)
    return weights


def read_config(directory: Path, kind: str, format_version: int) -> dict[str, Any]:
    """``config.json`` of a verified folder, refused unless it holds a ``kind`` this triage can read."""
    config = read_json(directory / CONFIG_FILE)
    if not isinstance(config, dict) or config.get("type") != kind:
        found = config.get("type") if isinstance(config, dict) else None
        raise InputError(f"{directory} holds a {found!r}, not a {kind}")
    if config.get("format_version", 0) > format_version:
        raise InputError(
            f"{directory} was saved by a newer triage (format {config['format_version']}): upgrade"
        )
    return config


def stored_params(model: Any, *, skip: Iterable[str] = ("encoder",)) -> dict[str, Any]:
    """The constructor parameters a saved head records (``encoder`` is recorded as its family instead)."""
    skipped = set(skip)
    return {k: v for k, v in model.get_params(deep=False).items() if k not in skipped}
