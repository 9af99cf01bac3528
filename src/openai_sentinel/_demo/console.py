"""Compact console formats: a line per span (plus its captured content) and per metric point."""

from __future__ import annotations

import json
from collections.abc import Mapping

from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from .. import semconv

_SHOWN_METRIC_ATTRIBUTES = (
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_TOKEN_TYPE,
    semconv.ERROR_TYPE,
)
_CONTENT_WIDTH = 150
"""Characters of captured content shown per line (the span itself keeps more)."""

_STREAM_ENDS = {
    "closed": "closed by the caller",
    "abandoned": "abandoned by the caller (ended when garbage-collected)",
    "error": "stream failed mid-way",
}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.1f} ms"


def _stream_end(end: str, finish: tuple[str, ...], failed: bool) -> str:
    """What ``sentinel.stream.end`` means, in words; ``closed early`` when finish is missing."""
    if end == "closed" and "error" in finish and not failed:
        return "closed early by the caller (no finish reason arrived, hence finish=error)"
    return _STREAM_ENDS.get(end, f"stream {end}")


def format_span(span: ReadableSpan) -> str:
    """``span  duration  tokens  finish  ttfc  error`` on one line, then any captured
    content, abbreviated, on indented ``in:`` and ``out:`` lines."""
    attributes = span.attributes or {}
    seconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
    failed = span.status.status_code is StatusCode.ERROR
    fields = [f"span {span.name:<24}", _ms(seconds)]
    if attributes.get(semconv.GEN_AI_REQUEST_STREAM):
        fields.append("stream")
    tokens_in = attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        fields.append(f"tokens in={tokens_in} out={tokens_out}")
    raw_finish = attributes.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS)
    finish = (
        tuple(str(reason) for reason in raw_finish) if isinstance(raw_finish, (tuple, list)) else ()
    )
    if finish:
        fields.append("finish=" + ",".join(finish))
    first = attributes.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
    if isinstance(first, float):
        fields.append("ttfc=" + _ms(first).strip())
    end = attributes.get(semconv.SENTINEL_STREAM_END)
    if end not in (None, "completed"):
        fields.append(_stream_end(str(end), finish, failed))
    if failed:
        fields.append(f"ERROR {attributes.get(semconv.ERROR_TYPE)}")
    security = _security(attributes)
    if security:
        fields.append(security)
    fields.append(f"trace={span.context.trace_id:032x}"[:14])
    lines = ["  ".join(fields)]
    for label, key in (
        ("in: ", semconv.GEN_AI_INPUT_MESSAGES),
        ("out:", semconv.GEN_AI_OUTPUT_MESSAGES),
    ):
        value = attributes.get(key)
        if isinstance(value, str):
            lines.append(f"    {label} {_abbreviate(_messages_text(value))}")
    return "\n".join(lines) + "\n"


def _security(attributes: Mapping[str, object]) -> str:
    """``SECURITY <categories> <action>`` for a span with security findings, else ``""``."""
    get = attributes.get
    categories = get(semconv.SENTINEL_SECURITY_CATEGORIES)
    action = get(semconv.SENTINEL_SECURITY_ACTION)
    if not categories or action is None:
        return ""
    if not isinstance(categories, (tuple, list)):
        return ""
    text = f"SECURITY {','.join(str(c) for c in categories)} {action}"
    score = get(semconv.SENTINEL_SECURITY_INJECTION_SCORE)
    if get(semconv.SENTINEL_SECURITY_INJECTION) and isinstance(score, float):
        text += f" (injection score {score:.2f})"
    return text


def _part_text(part: object) -> str:
    if not isinstance(part, dict):
        return str(part)
    content = part.get("content")
    if isinstance(content, str):
        return content
    name = part.get("name")
    return f"[{part.get('type', '?')}{' ' + str(name) if name else ''}]"


def _messages_text(captured: str) -> str:
    """``role: text | role: text`` from the conventions' JSON messages (raw text if not JSON)."""
    try:
        messages = json.loads(captured)
    except ValueError:
        return captured
    if not isinstance(messages, list):
        return captured
    shown = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        parts = message.get("parts")
        text = " ".join(_part_text(part) for part in parts) if isinstance(parts, list) else ""
        shown.append(f"{message.get('role', '?')}: {text or '(no text)'}")
    return " | ".join(shown)


def _abbreviate(text: str, width: int = _CONTENT_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_metrics(data: MetricsData) -> str:
    """One line per histogram data point: name, key attributes, count and sum."""
    lines = []
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    if not isinstance(point, HistogramDataPoint):
                        continue
                    attributes = point.attributes or {}
                    shown = " ".join(
                        f"{key}={attributes[key]!s}"
                        for key in _SHOWN_METRIC_ATTRIBUTES
                        if key in attributes
                    )
                    lines.append(
                        f"metric {metric.name:<46} {shown:<56} "
                        f"count={point.count:<3} sum={point.sum:.4g} {metric.unit}"
                    )
    return "\n".join(lines) + "\n" if lines else ""
