"""The demo's closing table, computed from the spans the instrumentation produced."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan

from .. import semconv


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile (nearest-rank-interpolated), or None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


@dataclass
class ModelSummary:
    """What the spans of one model add up to."""

    calls: int = 0
    streams: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    durations: list[float] = field(default_factory=list)
    first_chunks: list[float] = field(default_factory=list)
    cost: float = 0.0
    priced: int = 0
    unpriced: int = 0
    repeats: int = 0
    escalations: list[str] = field(default_factory=list)
    """``first model -> model`` of each repeat sent to another model."""

    @property
    def cost_per_call(self) -> float | None:
        """Mean USD of the priced calls."""
        return self.cost / self.priced if self.priced else None

    @property
    def repeat_rate(self) -> float:
        return self.repeats / self.calls if self.calls else 0.0

    def add(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        self.calls += 1
        self.streams += bool(attributes.get(semconv.GEN_AI_REQUEST_STREAM))
        error = attributes.get(semconv.ERROR_TYPE)
        if error is not None:
            self.errors[str(error)] += 1
        self.input_tokens += int(attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS, 0))  # type: ignore[arg-type]
        self.output_tokens += int(attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, 0))  # type: ignore[arg-type]
        self.durations.append(((span.end_time or 0) - (span.start_time or 0)) / 1e9)
        first = attributes.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
        if isinstance(first, float):
            self.first_chunks.append(first)
        cost = attributes.get(semconv.SENTINEL_COST_USD)
        if isinstance(cost, float):
            self.cost += cost
            self.priced += 1
        self.unpriced += bool(attributes.get(semconv.SENTINEL_COST_UNPRICED))
        if attributes.get(semconv.SENTINEL_REQUEST_REPEAT):
            self.repeats += 1
            if attributes.get(semconv.SENTINEL_REQUEST_REPEAT_MODEL_CHANGED):
                first_model = attributes.get(semconv.SENTINEL_REQUEST_REPEAT_FIRST_MODEL, "?")
                model = attributes.get(semconv.GEN_AI_REQUEST_MODEL, "?")
                self.escalations.append(f"{first_model} -> {model}")


def summarize(spans: Iterable[ReadableSpan]) -> dict[str, ModelSummary]:
    """Per request model (plus ``all``), the calls, tokens, latencies and errors."""
    rows: dict[str, ModelSummary] = defaultdict(ModelSummary)
    for span in spans:
        attributes = span.attributes or {}
        if semconv.GEN_AI_OPERATION_NAME not in attributes:
            continue
        rows[str(attributes.get(semconv.GEN_AI_REQUEST_MODEL, "?"))].add(span)
        rows["all"].add(span)
    return dict(rows)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.0f} ms"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.6f}"


def render(rows: dict[str, ModelSummary]) -> str:
    """A fixed-width table, one line per model and a total line, then what the cost,
    repeat and error columns add up to."""
    header = (
        f"{'model':<20}{'calls':>6}{'streams':>8}{'errors':>7}{'in tok':>8}{'out tok':>8}"
        f"{'p50':>8}{'p95':>8}{'ttfc p50':>9}{'cost':>11}{'$/call':>11}{'repeats':>8}"
    )
    lines = [header, "-" * len(header)]
    ordered = sorted(name for name in rows if name != "all") + (["all"] if "all" in rows else [])
    for name in ordered:
        row = rows[name]
        if name == "all":
            lines.append("-" * len(header))
        lines.append(
            f"{name:<20}{row.calls:>6}{row.streams:>8}{sum(row.errors.values()):>7}"
            f"{row.input_tokens:>8}{row.output_tokens:>8}"
            f"{_ms(percentile(row.durations, 0.5)):>8}{_ms(percentile(row.durations, 0.95)):>8}"
            f"{_ms(percentile(row.first_chunks, 0.5)):>9}"
            f"{_usd(row.cost if row.priced else None):>11}{_usd(row.cost_per_call):>11}"
            f"{row.repeats:>8}"
        )
    total = rows.get("all", ModelSummary())
    if total.calls:
        lines.append(
            f"cost: ${total.cost:.6f} for {total.priced} priced calls "
            f"({total.unpriced} unpriced); repeat rate {total.repeat_rate:.0%} "
            f"({total.repeats} of {total.calls} calls asked again within the window)"
        )
    if total.escalations:
        switched = Counter(total.escalations)
        lines.append(
            "repeats sent to another model: "
            + ", ".join(f"{pair} x{count}" for pair, count in switched.items())
        )
    if total.errors:
        lines.append(
            "errors: " + ", ".join(f"{kind} x{count}" for kind, count in total.errors.items())
        )
    return "\n".join(lines)


def render_security(spans: Iterable[ReadableSpan]) -> str:
    """What the security scanner found: injection attempts (and what the policy did),
    requests carrying PII or secrets, and the findings by category."""
    injections: Counter[str] = Counter()
    pii = 0
    categories: Counter[str] = Counter()
    for span in spans:
        attributes = span.attributes or {}
        found = attributes.get(semconv.SENTINEL_SECURITY_CATEGORIES)
        if not isinstance(found, (tuple, list)):
            continue
        categories.update(str(category) for category in found)
        action = str(attributes.get(semconv.SENTINEL_SECURITY_ACTION, "observed"))
        if attributes.get(semconv.SENTINEL_SECURITY_INJECTION):
            injections[action] += 1
        if semconv.SECURITY_CATEGORY_PII in found or semconv.SECURITY_CATEGORY_SECRET in found:
            pii += 1
    if not categories:
        return "security: nothing flagged"
    attempts = sum(injections.values())
    done = ", ".join(f"{count} {action}" for action, count in sorted(injections.items()))
    lines = [
        f"security: {attempts} prompt-injection attempt(s) flagged ({done or 'none'}); "
        f"{pii} call(s) with PII or secrets (always redacted in captured content)",
        "findings by category: "
        + ", ".join(f"{name} x{count}" for name, count in sorted(categories.items())),
    ]
    return "\n".join(lines)
