"""The estimator contract of the trainable heads, after scikit-learn's: declared parameters, checked once.

Each head (:class:`~triage.classify.TicketClassifier`, :class:`~triage.classify.TicketTagger`,
:class:`~triage.sentiment.SentimentHead`) is a scikit-learn ``BaseEstimator`` (``get_params`` /
``set_params`` / ``clone``) that declares what each constructor parameter accepts in
``_parameter_constraints`` -- like scikit-learn's own table -- and checks the table at the start of ``fit``:

>>> class Head(Estimator):  # doctest: +SKIP
...     _parameter_constraints = {
...         "C": [Interval(Real, 0, None, closed="neither")],
...         "cv": [None, Interval(Integral, 2)],
...     }

A value no constraint admits is an :class:`~triage.errors.InputError` naming the head, the parameter, the
value and what to pass instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar, Literal

from sklearn.base import BaseEstimator

from triage.errors import InputError, NotFittedError

__all__ = [
    "Estimator",
    "HasMethods",
    "Integral",
    "Interval",
    "Options",
    "Real",
    "SequenceOf",
    "describe",
    "satisfies",
    "validate_params",
]


class Interval:
    """Numbers of ``kind`` (``Integral`` or ``Real``) between ``left`` and ``right`` (``None``: unbounded)."""

    def __init__(
        self,
        kind: type,
        left: float | None = None,
        right: float | None = None,
        *,
        closed: Literal["left", "right", "both", "neither"] = "both",
    ) -> None:
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        noun = "an int" if self.kind is Integral else "a number"
        low = "[" if self.closed in ("left", "both") else "("
        high = "]" if self.closed in ("right", "both") else ")"
        if self.left is not None and self.right is not None:
            return f"{noun} in {low}{self.left}, {self.right}{high}"
        if self.left is not None:
            return f"{noun} {'>=' if low == '[' else '>'} {self.left}"
        if self.right is not None:
            return f"{noun} {'<=' if high == ']' else '<'} {self.right}"
        return noun


class Options:
    """One of the given values (compared with ``==``)."""

    def __init__(self, *values: Any) -> None:
        self.values = values

    def __contains__(self, value: object) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class HasMethods:
    """An object with all the named methods (e.g. an encoder: ``encode``)."""

    def __init__(self, *methods: str, name: str = "an object") -> None:
        self.methods, self.name = methods, name

    def __contains__(self, value: object) -> bool:
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self) -> str:
        return f"{self.name} with {', '.join(m + '()' for m in self.methods)}"


class SequenceOf:
    """A list or tuple whose items each satisfy ``item`` (``min_length`` items at least)."""

    def __init__(self, item: Any, *, min_length: int = 0) -> None:
        self.item, self.min_length = item, min_length

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, list | tuple)
            and len(value) >= self.min_length
            and all(satisfies(v, self.item) for v in value)
        )

    def __str__(self) -> str:
        kind = {0: "a list", 1: "a non-empty list"}.get(
            self.min_length, f"a list of {self.min_length}+ items"
        )
        return f"{kind} whose items are each {describe([self.item])}"


def satisfies(value: Any, constraint: Any) -> bool:
    """Whether ``value`` meets one constraint: ``None``, a type, or an object with ``__contains__``."""
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        if constraint is bool:
            return isinstance(value, bool)
        return isinstance(value, constraint) and not isinstance(value, bool)
    return value in constraint


def describe(constraints: Sequence[Any]) -> str:
    """The accepted values in words: ``"a number in (0, 1] or None"``."""
    words = []
    for c in constraints:
        if c is None:
            words.append("None")
        elif c is bool:
            words.append("True or False")
        elif isinstance(c, type):
            words.append({str: "a string", dict: "a dict"}.get(c, f"a {c.__name__}"))
        else:
            words.append(str(c))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def validate_params(owner: str, params: dict[str, Any], constraints: dict[str, list[Any]]) -> None:
    """Raise :class:`InputError` for the first parameter no constraint of its list admits."""
    for name, allowed in constraints.items():
        value = params[name]
        if not any(satisfies(value, c) for c in allowed):
            raise InputError(
                f"{owner}: {name}={value!r} is not valid; {name} must be {describe(allowed)} "
                f"(pass it to {owner}(...) or set_params({name}=...))"
            )


class Estimator(BaseEstimator):
    """Base of the trainable heads: declared parameter constraints, and the not-fitted check.

    Subclasses set ``_parameter_constraints`` (every constructor parameter -> accepted values),
    ``_fitted_attr`` (set by ``fit`` and ``load``) and ``_fit_hint`` (how to get a fitted one).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    _fitted_attr: ClassVar[str] = "coef_"
    _fit_hint: ClassVar[str] = "call fit() or load()"

    def _validate_params(self) -> None:
        """Check every constructor parameter against ``_parameter_constraints`` (called by ``fit``)."""
        validate_params(type(self).__name__, self.get_params(deep=False), self._parameter_constraints)

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(f"this {type(self).__name__} is not trained: {self._fit_hint}")

    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` or ``load`` has given this head its learned state (scikit-learn's protocol)."""
        return hasattr(self, self._fitted_attr)
