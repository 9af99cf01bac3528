"""Drift detection on per-request values, usable on its own: see
:class:`ConfidenceDriftDetector`.

Importing this module imports neither ``openai`` nor OpenTelemetry.
"""

from .analyzers.drift import ConfidenceDriftDetector
from .analyzers.drift_monitor import DriftChange

__all__ = ["ConfidenceDriftDetector", "DriftChange"]
