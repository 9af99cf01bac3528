"""Analyzers: provider-neutral functions over an :class:`~openai_sentinel.exchange.Exchange`.

They know neither the OpenAI client nor OpenTelemetry.
"""

from dataclasses import dataclass

from .confidence import NO_QUALITY_ISSUE, Confidence, Quality
from .cost import Cost
from .drift_monitor import DriftChange
from .repeats import Repeat
from .security.policy import SecurityFindings


@dataclass(frozen=True, slots=True)
class Findings:
    """What the analyzers found about one exchange, for the emitter to write."""

    cost: Cost | None = None
    unpriced: bool = False
    """The call could not be priced (unknown model, or no usage reported)."""
    repeat: Repeat | None = None
    """The same request was sent within the repeat window."""
    confidence: Confidence | None = None
    quality: Quality = NO_QUALITY_ISSUE
    drift: tuple[DriftChange, ...] = ()
    """Drift state changes this call caused that are due for a report."""
    security: SecurityFindings | None = None
    """The scans of the request and the answer, and what the policy did."""
