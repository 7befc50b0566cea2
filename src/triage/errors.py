"""Exceptions that say what went wrong and how to fix it."""

from __future__ import annotations


class TriageError(Exception):
    """Base class for every error raised by triage."""


class ModelNotAvailableError(TriageError):
    """A model or backend is not installed or cannot be loaded offline.

    The message names the missing piece and the command that adds it.
    """


class NotFittedError(TriageError, ValueError):
    """A trainable component was used before ``fit`` or ``load``."""


class InputError(TriageError, ValueError):
    """Input data is malformed; the message names the row or field."""


class EncoderMismatchError(TriageError):
    """A saved model or index was built with a different encoder than the one in use."""
