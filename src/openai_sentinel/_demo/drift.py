"""The demo's drift scenario: two models answer thousands of calls; one of them slowly
loses confidence, and the in-process detectors say so, warning first, then critical."""

from __future__ import annotations

import logging
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

import openai
from opentelemetry.sdk.trace import ReadableSpan

from .. import OpenAISentinelInstrumentor, semconv
from ..analyzers.drift_monitor import DriftChange
from ..simulator import LogprobDrift, Simulator, SimulatorConfig
from .exporters import make_providers

__all__ = ["DRIFT_CALLS", "MIN_DRIFT_CALLS", "run_drift_demo"]

DRIFTING: Final = "gpt-4o-mini"
STEADY: Final = "gpt-4o"
DRIFT_CALLS: Final = 5000
"""Calls in all (half per model), enough for the detectors' warm-up and the drift."""
MIN_DRIFT_CALLS: Final = 3000
"""Fewer, and the drift would start before the detectors are warm."""
_BASE_LOGPROB: Final = -0.15
"""Mean token logprob before the drift: a confidence of about 0.86."""
_DRIFTED_LOGPROB: Final = -0.32
"""After: about 0.73, a 15% drop, spread over many calls as a gradual slide."""


@dataclass
class _Log:
    """What the ``on_drift`` callback saw, in order, with the call that caused it."""

    out: TextIO
    calls: int = 0
    changes: list[tuple[int, DriftChange]] = field(default_factory=list)

    def __call__(self, change: DriftChange) -> None:
        self.changes.append((self.calls, change))
        drop = "" if change.drop is None else f"{change.drop * 100:+.1f}% worse"
        baseline = "" if change.baseline is None else f" than a baseline of {change.baseline:.3f}"
        self.out.write(
            f"  call {self.calls:5d}  {change.model:<12} {change.signal:<14}"
            f" {change.previous} -> {change.severity}  ({drop}{baseline})\n"
        )
        self.out.flush()


def _confidences(spans: Sequence[ReadableSpan], model: str) -> list[float]:
    values = []
    for span in spans:
        attributes = span.attributes or {}
        if attributes.get(semconv.GEN_AI_REQUEST_MODEL) == model:
            value = attributes.get(semconv.SENTINEL_CONFIDENCE)
            if isinstance(value, float):
                values.append(value)
    return values


def run_drift_demo(calls: int, out: TextIO = sys.stdout) -> int:
    """Run the scenario on the embedded simulator; returns an exit code."""
    per_model = calls // 2
    start = per_model * 2 // 5
    drift = LogprobDrift(
        start=start,
        duration=per_model // 4,
        mean_logprob=_DRIFTED_LOGPROB,
        models=(DRIFTING,),
    )
    config = SimulatorConfig(
        mean_logprob=_BASE_LOGPROB,
        min_completion_tokens=24,
        max_completion_tokens=48,
        logprob_drift=drift,
        seed=11,
    )
    providers = make_providers(
        json_output=False, service_name="openai-sentinel-demo", console_spans=False
    )
    log = _Log(out)
    # the callback prints the changes; the logger would say the same again on stderr
    drift_logger = logging.getLogger("openai_sentinel.drift")
    propagate, drift_logger.propagate = drift_logger.propagate, False
    silent = logging.NullHandler()
    drift_logger.addHandler(silent)
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
        on_drift=log,
    )
    try:
        with Simulator(config) as simulator:
            client = openai.OpenAI(base_url=simulator.base_url, api_key="sk-simulator")
            out.write(
                f"drift scenario: {calls} calls with logprobs to {STEADY} and {DRIFTING} on the "
                f"simulator ({simulator.base_url});\n{DRIFTING}'s confidence starts sliding "
                f"after its call {start} and keeps sliding for {drift.duration} calls.\n"
                "drift state changes, as the on_drift callback receives them:\n"
            )
            out.flush()
            for index in range(per_model):
                for model in (STEADY, DRIFTING):
                    log.calls += 1
                    client.chat.completions.create(
                        model=model,
                        messages=[{"role": "user", "content": f"Question {index}: summarize."}],
                        logprobs=True,
                        max_tokens=64,
                    )
    finally:
        instrumentor.uninstrument()
        providers.shutdown()
        drift_logger.propagate = propagate
        drift_logger.removeHandler(silent)
    spans = providers.finished.get_finished_spans()
    out.write("\nmean confidence, first and last 500 calls of each model:\n")
    for model in (STEADY, DRIFTING):
        values = _confidences(spans, model) or [0.0]
        first, last = statistics.fmean(values[:500]), statistics.fmean(values[-500:])
        out.write(f"  {model:<12} {first:.3f} -> {last:.3f} ({(last - first) / first:+.1%})\n")
    by_model = {
        model: [change.severity for _, change in log.changes if change.model == model]
        for model in (STEADY, DRIFTING)
    }
    out.write(
        f"alarms: {DRIFTING}: {' -> '.join(by_model[DRIFTING]) or 'none'}; "
        f"{STEADY}: {' -> '.join(by_model[STEADY]) or 'none'}\n"
    )
    return 0
