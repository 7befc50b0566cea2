"""Ticket classification: a trainable, calibrated, abstaining classifier, and the step that runs heads.

>>> from triage.classify import TicketClassifier
>>> clf = TicketClassifier().fit(texts, labels)          # doctest: +SKIP
>>> clf("My parcel never arrived").label                  # doctest: +SKIP
>>> clf.save("models/my-queue"); TicketClassifier.load("models/my-queue")  # doctest: +SKIP
"""

from __future__ import annotations

from triage.classify.calibration import (
    expected_calibration_error,
    fit_temperature,
    precision_coverage_curve,
    threshold_for_precision,
)
from triage.classify.data import check_training_data
from triage.classify.model import TicketClassifier
from triage.classify.tags import TicketTagger, load_head

__all__ = [
    "TicketClassifier",
    "TicketTagger",
    "check_training_data",
    "expected_calibration_error",
    "fit_temperature",
    "load_head",
    "precision_coverage_curve",
    "threshold_for_precision",
]
