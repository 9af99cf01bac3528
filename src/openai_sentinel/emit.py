"""OpenTelemetry output: an :class:`Exchange` becomes span attributes and metric points.

All names come from :mod:`openai_sentinel.semconv`.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from opentelemetry._logs import Logger, LoggerProvider, LogRecord, SeverityNumber, get_logger
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
    get_tracer,
    set_span_in_context,
)
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._cost_metrics import CostMetrics
from ._enrichment import CallIndex, MetricLabels
from ._errors import report_internal_error
from ._metrics import LatestMetrics, MetricSet, StableMetrics
from ._quality_metrics import QualityMetrics
from ._security_telemetry import SecurityTelemetry, security_attributes
from ._sums import key_of
from ._version import __version__
from .analyzers import Findings
from .analyzers.confidence import (
    SOURCE_LOGPROBS,
    Confidence,
    confidence_of,
    prepare_heuristic,
    quality_of,
)
from .analyzers.cost import PriceBook
from .analyzers.drift import OK
from .analyzers.drift_monitor import DriftChange, DriftMonitor
from .analyzers.price_overrides import PriceOverrides
from .analyzers.repeats import RepeatTracker
from .analyzers.security._model import ScanResult
from .analyzers.security.live import LIVE, LiveRules
from .analyzers.security.policy import SecurityFindings, action_for
from .config import Settings
from .content import serialize_content, text_buffer_limit
from .exchange import Exchange

__all__ = ["Telemetry"]

_NOTHING_FOUND: Final = Findings()
drift_logger: Final = logging.getLogger("openai_sentinel.drift")
"""Drift state changes: warning and critical at ``WARNING``, back to ok at ``INFO``."""

Attributes = dict[str, AttributeValue]


def _add_present(attributes: Attributes, pairs: tuple[tuple[str, Any], ...]) -> Attributes:
    """``attributes`` plus every pair whose value is not ``None``."""
    for key, value in pairs:
        if value is not None:
            attributes[key] = value
    return attributes


def _stacktrace(error: BaseException, message: str) -> str:
    """The traceback of ``error`` with ``message`` in place of the exception's own text,
    which may quote content (the frames name code, never values)."""
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__))
    kind = type(error).__qualname__
    return f"Traceback (most recent call last):\n{''.join(frames)}{kind}: {message}\n"


def drift_attributes(change: DriftChange) -> Attributes:
    """The attributes of a drift state change (span event, log record)."""
    attributes: Attributes = {
        semconv.SENTINEL_DRIFT_SIGNAL: change.signal,
        semconv.SENTINEL_DRIFT_SEVERITY: change.severity,
        semconv.SENTINEL_DRIFT_PREVIOUS_SEVERITY: change.previous,
        semconv.GEN_AI_REQUEST_MODEL: change.model,
        semconv.GEN_AI_OPERATION_NAME: change.operation,
    }
    if change.drop is not None:
        attributes[semconv.SENTINEL_DRIFT_DROP] = change.drop
    if change.baseline is not None:
        attributes[semconv.SENTINEL_DRIFT_BASELINE] = change.baseline
    return attributes


def latest_conventions_requested() -> bool:
    """Whether ``OTEL_SEMCONV_STABILITY_OPT_IN`` lists ``gen_ai_latest_experimental``."""
    values = os.environ.get(semconv.SEMCONV_STABILITY_OPT_IN_ENV, "")
    return semconv.SEMCONV_GENAI_LATEST in {value.strip() for value in values.split(",")}


class Telemetry:
    """The tracer, the instruments and the settings of one ``instrument()`` call."""

    __slots__ = (
        "_costs",
        "_logger",
        "_metrics",
        "_quality",
        "_security",
        "active",
        "calls",
        "content_buffer_limit",
        "drift",
        "latest_conventions",
        "metric_labels",
        "price_book",
        "repeats",
        "security",
        "settings",
        "tracer",
    )

    def __init__(
        self,
        settings: Settings,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        price_overrides: PriceOverrides | None = None,
        logger_provider: LoggerProvider | None = None,
    ) -> None:
        self.settings = settings
        self.metric_labels = MetricLabels(settings.metric_attributes)
        """The application's attributes that metric points carry too (bounded)."""
        self.calls = CallIndex()
        """Recent calls' spans by response id, for feedback recorded after the call."""
        self._logger: Logger = get_logger(
            semconv.INSTRUMENTATION_SCOPE,
            __version__,
            logger_provider,
            schema_url=semconv.SCHEMA_URL,
        )
        self.active = True
        """False once uninstrumented: wrappers still referenced anywhere pass calls through."""
        self.content_buffer_limit = text_buffer_limit(settings.content_max_length)
        """Characters of streamed text worth keeping per stream when capture is on."""
        if settings.confidence_heuristic:
            prepare_heuristic()
        self.tracer: Tracer = get_tracer(
            semconv.INSTRUMENTATION_SCOPE,
            __version__,
            tracer_provider,
            schema_url=semconv.SCHEMA_URL,
        )
        meter = get_meter(
            semconv.INSTRUMENTATION_SCOPE,
            __version__,
            meter_provider,
            schema_url=semconv.SCHEMA_URL,
        )
        self.latest_conventions = latest_conventions_requested()
        """``OTEL_SEMCONV_STABILITY_OPT_IN`` asked for the latest experimental GenAI names."""
        self._metrics: MetricSet = (
            LatestMetrics(meter) if self.latest_conventions else StableMetrics(meter)
        )
        self._costs = CostMetrics(meter, latest=self.latest_conventions)
        self.price_book = PriceBook(price_overrides)
        self.repeats = (
            RepeatTracker(settings.repeat_window_seconds, settings.repeat_table_size)
            if settings.repeat_window_seconds > 0
            else None
        )
        """Requests seen within the repeat window; ``None`` when detection is off."""
        self.drift = (
            DriftMonitor(settings.drift_cooldown_seconds) if settings.drift_detection else None
        )
        """Drift detectors per model, operation and signal; ``None`` when detection is off."""
        self.security: LiveRules | None = LIVE if settings.security_scanning else None
        """The security scanner in force; ``None`` when scanning is off."""
        self._security = SecurityTelemetry(meter)
        monitor = self.drift
        self._quality = QualityMetrics(
            meter,
            states=monitor.states if monitor is not None else list,
            active=lambda: self.active,
        )

    # -- spans ---------------------------------------------------------------------

    def start_span(self, exchange: Exchange, start_time: int) -> Span:
        """Start the CLIENT span of ``exchange`` with the attributes known before the call
        (the application's own, from ``attributes()``, under ours)."""
        model = exchange.request_model
        name = f"{exchange.operation} {model}" if model else exchange.operation
        attributes = self.request_attributes(exchange)
        if exchange.context_attributes:
            attributes = {**exchange.context_attributes, **attributes}
        return self.tracer.start_span(
            name,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=start_time,
        )

    def request_attributes(self, exchange: Exchange) -> Attributes:
        """Span attributes describing the request."""
        attributes: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: exchange.operation,
            semconv.GEN_AI_PROVIDER_NAME: exchange.provider,
        }
        if exchange.api_type is not None:
            attributes[semconv.OPENAI_API_TYPE] = exchange.api_type
        optional: tuple[tuple[str, Any], ...] = (
            (semconv.GEN_AI_REQUEST_MODEL, exchange.request_model),
            (semconv.SERVER_ADDRESS, exchange.server_address),
            (semconv.SERVER_PORT, exchange.server_port),
            (semconv.GEN_AI_REQUEST_TEMPERATURE, exchange.temperature),
            (semconv.GEN_AI_REQUEST_TOP_P, exchange.top_p),
            (semconv.GEN_AI_REQUEST_MAX_TOKENS, exchange.max_tokens),
            (semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY, exchange.frequency_penalty),
            (semconv.GEN_AI_REQUEST_PRESENCE_PENALTY, exchange.presence_penalty),
            (semconv.GEN_AI_REQUEST_STOP_SEQUENCES, exchange.stop_sequences),
            (semconv.GEN_AI_REQUEST_SEED, exchange.seed),
            (semconv.GEN_AI_REQUEST_CHOICE_COUNT, exchange.choice_count),
            (semconv.GEN_AI_OUTPUT_TYPE, exchange.output_type),
            (semconv.OPENAI_REQUEST_SERVICE_TIER, exchange.request_service_tier),
            (semconv.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID, exchange.previous_response_id),
            (semconv.GEN_AI_CONVERSATION_ID, exchange.conversation_id),
            (semconv.GEN_AI_REQUEST_REASONING_LEVEL, exchange.reasoning_level),
            (semconv.GEN_AI_REQUEST_ENCODING_FORMATS, exchange.encoding_formats),
        )
        _add_present(attributes, optional)
        if exchange.stream:
            attributes[semconv.GEN_AI_REQUEST_STREAM] = True
        if self.settings.capture_content:
            self._add_content(
                attributes,
                (
                    (semconv.GEN_AI_INPUT_MESSAGES, exchange.input_messages),
                    (semconv.GEN_AI_SYSTEM_INSTRUCTIONS, exchange.system_instructions),
                    (semconv.GEN_AI_TOOL_DEFINITIONS, exchange.tool_definitions),
                ),
            )
        return attributes

    def response_attributes(self, exchange: Exchange) -> Attributes:
        """Span attributes describing the response (or how far it got)."""
        attributes: Attributes = {}
        optional: tuple[tuple[str, Any], ...] = (
            (semconv.GEN_AI_RESPONSE_ID, exchange.response_id),
            (semconv.GEN_AI_RESPONSE_MODEL, exchange.response_model),
            (semconv.GEN_AI_RESPONSE_FINISH_REASONS, exchange.finish_reasons),
            (semconv.GEN_AI_USAGE_INPUT_TOKENS, exchange.input_tokens),
            (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, exchange.output_tokens),
            (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, exchange.cache_read_input_tokens),
            (
                semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS
                if self.latest_conventions
                else semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                exchange.cache_write_input_tokens,
            ),
            (semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, exchange.embedding_dimensions),
            (semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, exchange.reasoning_output_tokens),
            (semconv.OPENAI_RESPONSE_SERVICE_TIER, exchange.response_service_tier),
            (semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, exchange.system_fingerprint),
            (semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, exchange.time_to_first_chunk),
            (semconv.SENTINEL_STREAM_END, exchange.stream_end),
            (semconv.ERROR_TYPE, exchange.error_type),
        )
        _add_present(attributes, optional)
        if exchange.stream and not exchange.response_unread:
            attributes[semconv.SENTINEL_STREAM_CHUNKS] = exchange.chunk_count
        if exchange.usage_injected:
            attributes[semconv.SENTINEL_STREAM_USAGE_INJECTED] = True
        if exchange.logprobs_injected:
            attributes[semconv.SENTINEL_LOGPROBS_INJECTED] = True
        if exchange.response_unread:
            attributes[semconv.SENTINEL_RESPONSE_UNREAD] = True
        if self.settings.capture_content:
            self._add_content(
                attributes, ((semconv.GEN_AI_OUTPUT_MESSAGES, exchange.output_messages),)
            )
        return attributes

    def _add_content(
        self, attributes: Attributes, items: tuple[tuple[str, list[Any] | None], ...]
    ) -> None:
        limit = self.settings.content_max_length
        for key, value in items:
            if value:
                attributes[key] = serialize_content(value, limit)

    def analyze(self, exchange: Exchange) -> Findings:
        """Run the analyzers over a finished exchange."""
        if exchange.security_input_action == semconv.SECURITY_ACTION_BLOCKED:
            # never sent: nothing was billed, repeated or answered
            blocked = SecurityFindings(
                exchange.security_input, None, exchange.security_input_action
            )
            return Findings(security=blocked)
        # Each analyzer is guarded on its own: one that fails costs only its own finding.
        repeat = None
        if self.repeats is not None and exchange.request_fingerprint is not None:
            try:
                repeat = self.repeats.observe(
                    exchange.request_fingerprint,
                    exchange.request_model,
                    answered=exchange.error_type is None,
                )
            except Exception:
                report_internal_error("repeat detection")
        if exchange.operation == semconv.OPERATION_FETCH_RESPONSE:
            return _NOTHING_FOUND  # a fetch costs nothing and was judged when it was made
        quality = quality_of(exchange)
        confidence = None
        try:
            confidence = confidence_of(exchange, heuristic=self.settings.confidence_heuristic)
        except Exception:
            report_internal_error("confidence")
        drift: tuple[DriftChange, ...] = ()
        try:
            drift = self._watch_drift(exchange, confidence, quality.truncated)
        except Exception:
            report_internal_error("drift detection")
        security = None
        try:
            security = self._screen_answer(exchange, confidence)
        except Exception:
            report_internal_error("security scanning")
        if security is not None and security.confidence_halved and confidence is not None:
            confidence = replace(confidence, value=confidence.value * 0.5)
        if exchange.error_type is not None and exchange.input_tokens is None:
            # failed before any usage: nothing was billed
            return Findings(
                repeat=repeat,
                confidence=confidence,
                quality=quality,
                drift=drift,
                security=security,
            )
        cost = None
        priced = True
        try:
            cost = self.price_book.cost(exchange)
        except Exception:  # not known to be unpriced: the price data failed
            priced = False
            report_internal_error("pricing")
        return Findings(
            cost=cost,
            unpriced=cost is None and priced,
            repeat=repeat,
            confidence=confidence,
            quality=quality,
            drift=drift,
            security=security,
        )

    def screen_request(self, exchange: Exchange, text: str) -> ScanResult | None:
        """Scan the untrusted text of a request and decide what the input policy does
        (``exchange.security_input_action``); ``None`` when scanning is off."""
        live = self.security
        if live is None:
            return None
        result = live.scanner().scan(text, semconv.SECURITY_DIRECTION_INPUT)
        exchange.security_input = result
        settings = self.settings
        exchange.security_input_action = action_for(
            result, settings.security_input_policy, settings.security_block_severity
        )
        return result

    def _screen_answer(
        self, exchange: Exchange, confidence: Confidence | None
    ) -> SecurityFindings | None:
        """Scan the (first) answer in the request's domain, and decide what the output
        policy does; critical hallucination risk halves the reported confidence."""
        live = self.security
        request = exchange.security_input
        if live is None:
            return None
        answer = None
        action = None
        halved = False
        if exchange.answer_text and exchange.error_type is None:
            logprobs = confidence is not None and confidence.source == SOURCE_LOGPROBS
            answer = live.scanner().scan(
                exchange.answer_text,
                semconv.SECURITY_DIRECTION_OUTPUT,
                domain=request.domain if request is not None else None,
                confidence=confidence.value if logprobs and confidence is not None else None,
                infer_domain=request is None,  # an everyday request: any answer is low-risk
            )
            settings = self.settings
            action = action_for(
                answer,
                settings.security_output_policy,
                settings.security_block_severity,
                can_redact=exchange.answer_rewritable,
                can_block=not exchange.response_unread,
            )
            halved = (
                confidence is not None and answer.hallucination_risk == semconv.SEVERITY_CRITICAL
            )
        if request is None and answer is None:
            return None
        return SecurityFindings(request, answer, exchange.security_input_action, action, halved)

    def _watch_drift(
        self, exchange: Exchange, confidence: Confidence | None, truncated: bool
    ) -> tuple[DriftChange, ...]:
        """Feed a finished call to the drift detectors of its model. A failed call says
        nothing of the model's answers and is left out."""
        monitor = self.drift
        model = exchange.request_model or exchange.response_model  # its label: the request's
        if monitor is None or model is None or exchange.error_type is not None:
            return ()
        reasons = exchange.finish_reasons
        answered = bool(reasons) and reasons[0] != semconv.FINISH_REASON_ERROR  # type: ignore[index]
        changes = monitor.observe(
            model,
            exchange.operation,
            confidence=confidence.value
            if confidence is not None and confidence.source == SOURCE_LOGPROBS
            else None,
            output_tokens=exchange.output_tokens if answered else None,
            truncated=truncated if answered else None,
        )
        return tuple(changes)

    def finding_attributes(self, findings: Findings) -> Attributes:
        """Span attributes of what the analyzers found."""
        attributes: Attributes = {}
        cost = findings.cost
        if cost is not None:
            attributes[semconv.SENTINEL_COST_USD] = cost.total
            attributes[semconv.SENTINEL_COST_INPUT_USD] = cost.input
            attributes[semconv.SENTINEL_COST_OUTPUT_USD] = cost.output
            attributes[semconv.SENTINEL_COST_SOURCE] = cost.source
            if cost.cached_input or cost.cache_savings:
                attributes[semconv.SENTINEL_COST_CACHED_INPUT_USD] = cost.cached_input
                attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] = cost.cache_savings
            if cost.tier_multiplier is not None:
                attributes[semconv.SENTINEL_COST_TIER_MULTIPLIER] = cost.tier_multiplier
            if cost.total > self.settings.cost_threshold_usd:
                attributes[semconv.SENTINEL_COST_OVER_THRESHOLD] = True
            if self.latest_conventions:
                attributes[semconv.GEN_AI_USAGE_COST_AMOUNT] = cost.total
                attributes[semconv.GEN_AI_USAGE_COST_CURRENCY] = semconv.COST_CURRENCY_USD
                attributes[semconv.GEN_AI_USAGE_COST_SOURCE] = semconv.COST_SOURCE_LOCAL
        elif findings.unpriced:
            attributes[semconv.SENTINEL_COST_UNPRICED] = True
        confidence = findings.confidence
        if confidence is not None:
            attributes[semconv.SENTINEL_CONFIDENCE] = confidence.value
            attributes[semconv.SENTINEL_CONFIDENCE_SOURCE] = confidence.source
            if confidence.min_token is not None:
                attributes[semconv.SENTINEL_CONFIDENCE_MIN_TOKEN] = confidence.min_token
        quality = findings.quality
        if quality.truncated:
            attributes[semconv.SENTINEL_RESPONSE_TRUNCATED] = True
        if quality.refused:
            attributes[semconv.SENTINEL_RESPONSE_REFUSAL] = True
        if quality.content_filtered:
            attributes[semconv.SENTINEL_RESPONSE_CONTENT_FILTERED] = True
        if findings.security is not None:
            attributes.update(security_attributes(findings.security))
        repeat = findings.repeat
        if repeat is not None:
            attributes[semconv.SENTINEL_REQUEST_REPEAT] = True
            if repeat.model_changed:
                attributes[semconv.SENTINEL_REQUEST_REPEAT_MODEL_CHANGED] = True
                if repeat.first_model is not None:
                    attributes[semconv.SENTINEL_REQUEST_REPEAT_FIRST_MODEL] = repeat.first_model
        return attributes

    def end_span(
        self,
        span: Span,
        exchange: Exchange,
        findings: Findings,
        error: BaseException | None,
        end_time: int,
    ) -> None:
        """Set the response attributes and the status of ``span``, then end it."""
        try:
            if span.is_recording():
                attributes = self.response_attributes(exchange)
                attributes.update(self.finding_attributes(findings))
                span.set_attributes(attributes)
                self._add_finding_events(span, findings, end_time)
                if findings.security is not None:
                    self._add_security_events(span, exchange, findings.security, end_time)
                if error is None and exchange.error_type is not None:
                    # an error the API reported in the response or the stream, not raised
                    description = exchange.error_message or exchange.error_type
                    span.set_status(Status(StatusCode.ERROR, description))
                elif error is not None:
                    message = exchange.error_message or exchange.error_type
                    span.set_status(Status(StatusCode.ERROR, message))
                    span.record_exception(
                        error,
                        {
                            semconv.EXCEPTION_MESSAGE: message or "",
                            semconv.EXCEPTION_STACKTRACE: _stacktrace(error, message or ""),
                        },
                    )
        finally:
            span.end(end_time=end_time)
            self.calls.remember(exchange.response_id, span.get_span_context())

    def record_evaluation(self, response_id: str | None, attributes: Attributes) -> bool:
        """Emit a ``gen_ai.evaluation.result`` event in the context of the call that
        answered ``response_id``; whether that call was found."""
        found = self.calls.find(response_id) if response_id else None
        context = set_span_in_context(NonRecordingSpan(found)) if found is not None else None
        self._logger.emit(
            LogRecord(
                event_name=semconv.EVENT_EVALUATION_RESULT,
                context=context,
                severity_number=SeverityNumber.INFO,
                attributes=attributes,
            )
        )
        return found is not None

    @staticmethod
    def _add_finding_events(span: Span, findings: Findings, timestamp: int) -> None:
        """One event per answer's confidence when there were several, one per drift
        state change."""
        confidence = findings.confidence
        if confidence is not None:
            for index, value, min_token in confidence.per_answer:
                span.add_event(
                    semconv.EVENT_CONFIDENCE,
                    {
                        semconv.SENTINEL_CHOICE_INDEX: index,
                        semconv.SENTINEL_CONFIDENCE: value,
                        semconv.SENTINEL_CONFIDENCE_MIN_TOKEN: min_token,
                    },
                    timestamp,
                )
        for change in findings.drift:
            if change.reported:
                span.add_event(semconv.EVENT_DRIFT, drift_attributes(change), timestamp)

    def _add_security_events(
        self, span: Span, exchange: Exchange, security: SecurityFindings, timestamp: int
    ) -> None:
        """One event per security finding; with content capture on, each quotes its
        match, redacted."""
        live = self.security
        if self.settings.capture_content and live is not None:
            texts = (exchange.security_text, exchange.answer_text)
            self._security.add_events(span, security, timestamp, texts, live.scanner().redact)
        else:
            self._security.add_events(span, security, timestamp)

    def notify(self, findings: Findings) -> None:
        """Tell the log and the user's ``on_drift`` callback about drift state changes."""
        for change in findings.drift:
            if not change.reported:
                continue
            level = logging.INFO if change.severity == OK else logging.WARNING
            drift_logger.log(
                level,
                "%s drift of %s %s: %s -> %s (%.1f%% against a baseline of %s)",
                change.signal,
                change.operation,
                change.model,
                change.previous,
                change.severity,
                (change.drop or 0.0) * 100.0,
                "-" if change.baseline is None else f"{change.baseline:.4g}",
                extra={"drift": drift_attributes(change)},
            )
            callback = self.settings.on_drift
            if callback is not None:
                try:
                    callback(change)
                except Exception:
                    report_internal_error("the on_drift callback")

    # -- metrics -------------------------------------------------------------------

    @staticmethod
    def _chunk_metric_attributes(exchange: Exchange) -> Attributes:
        """The attributes the conventions require or recommend on every client metric."""
        return _add_present(
            {
                semconv.GEN_AI_OPERATION_NAME: exchange.operation,
                semconv.GEN_AI_PROVIDER_NAME: exchange.provider,
            },
            (
                (semconv.GEN_AI_REQUEST_MODEL, exchange.request_model),
                (semconv.SERVER_ADDRESS, exchange.server_address),
                (semconv.SERVER_PORT, exchange.server_port),
                (semconv.GEN_AI_RESPONSE_MODEL, exchange.response_model),
            ),
        )

    def metric_attributes(self, exchange: Exchange) -> Attributes:
        """Low-cardinality attributes shared by every per-call metric point of ``exchange``
        (with the application's ``metric_attributes`` keys, bounded)."""
        attributes = _add_present(
            self._chunk_metric_attributes(exchange),
            (
                (semconv.OPENAI_RESPONSE_SERVICE_TIER, exchange.response_service_tier),
                (semconv.ERROR_TYPE, exchange.error_type),
            ),
        )
        if self.metric_labels and exchange.context_attributes:
            return {**self.metric_labels.of(exchange.context_attributes), **attributes}
        return attributes

    def record_metrics(
        self, exchange: Exchange, findings: Findings, duration: float, context: Context | None
    ) -> None:
        """Record the duration, token, cost and (for streams) first-chunk points."""
        attributes = self.metric_attributes(exchange)
        self._metrics.record_call(exchange, attributes, duration, context)
        key = key_of(attributes)
        cost = findings.cost
        if cost is not None:
            self._costs.record(cost, attributes, key, context, self.settings.cost_threshold_usd)
        if findings.repeat is not None:
            self._costs.record_repeat(findings.repeat, cost, key)
        self._quality.record(findings, attributes, key, context)
        if findings.security is not None:
            self._security.record(findings.security)

    def record_chunk_gaps(self, exchange: Exchange, gaps: Sequence[float]) -> None:
        """Record the time between consecutive chunks of a stream.

        There is one point per chunk, so they carry only the attributes the conventions
        require or recommend for the metric (no service tier, no ``error.type``: they
        describe chunks that did arrive) and no exemplars, and they may be recorded in
        batches while the stream is still running.
        """
        self._metrics.record_chunk_gaps(self._chunk_metric_attributes(exchange), gaps)
