"""The instruments of cost and repeats, and what one call records in them.

Unit ``USD``: Prometheus names keep it, case included (``sentinel_cost_USD_total``,
``sentinel_request_cost_USD_bucket``). The counters are summed in the process
(:mod:`._sums`); the per-request histograms go through the SDK and keep exemplars.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._metrics import histogram
from ._sums import AttributeKey, in_process_sum
from .analyzers.cost import Cost
from .analyzers.repeats import Repeat

__all__ = ["CostMetrics"]

Attributes = dict[str, AttributeValue]

_INPUT = ((semconv.GEN_AI_TOKEN_TYPE, semconv.TOKEN_TYPE_INPUT),)
_OUTPUT = ((semconv.GEN_AI_TOKEN_TYPE, semconv.TOKEN_TYPE_OUTPUT),)


class CostMetrics:
    """USD spent (split into input and output), per-request cost, requests over the
    threshold, what the prompt cache saved, and repeated requests. With the latest
    conventions requested, the proposed ``gen_ai.client.operation.cost`` histogram too."""

    __slots__ = (
        "_cache_savings",
        "_model_switches",
        "_operation_cost",
        "_over_threshold",
        "_per_request",
        "_repeat_cost",
        "_repeats",
        "_spent",
    )

    def __init__(self, meter: Meter, *, latest: bool) -> None:
        self._spent = in_process_sum(meter, semconv.METRIC_COST, "USD")
        self._per_request = histogram(
            meter, semconv.METRIC_REQUEST_COST, "USD", semconv.COST_BUCKETS
        )
        self._operation_cost = (
            histogram(meter, semconv.METRIC_OPERATION_COST, "USD", semconv.COST_BUCKETS)
            if latest
            else None
        )
        self._over_threshold = in_process_sum(
            meter, semconv.METRIC_COST_OVER_THRESHOLD, "{request}"
        )
        self._cache_savings = in_process_sum(meter, semconv.METRIC_COST_CACHE_SAVINGS, "USD")
        self._repeats = in_process_sum(meter, semconv.METRIC_REQUEST_REPEATS, "{request}")
        self._repeat_cost = in_process_sum(meter, semconv.METRIC_REQUEST_REPEAT_COST, "USD")
        self._model_switches = in_process_sum(
            meter, semconv.METRIC_REQUEST_MODEL_SWITCHES, "{request}"
        )

    def record(
        self,
        cost: Cost,
        attributes: Attributes,
        key: AttributeKey,
        context: Context | None,
        threshold: float,
    ) -> None:
        """One priced call; ``key`` is ``attributes`` as a key."""
        self._spent.add(cost.input, key + _INPUT)
        self._spent.add(cost.output, key + _OUTPUT)
        self._per_request.record(cost.total, attributes, context)
        if self._operation_cost is not None:
            self._operation_cost.record(cost.total, attributes, context)
        if cost.total > threshold:
            self._over_threshold.add(1, key)
        if cost.cache_savings > 0:
            self._cache_savings.add(cost.cache_savings, key)

    def record_repeat(self, repeat: Repeat, cost: Cost | None, key: AttributeKey) -> None:
        """One repeated request, with what it cost when it was priced and an earlier
        sighting was answered (what a response cache would have saved)."""
        self._repeats.add(1, key)
        if cost is not None and repeat.answered_before:
            self._repeat_cost.add(cost.total, key)
        if repeat.model_changed:
            first = ((semconv.SENTINEL_REQUEST_REPEAT_FIRST_MODEL, repeat.first_model or ""),)
            self._model_switches.add(1, key + first)
