"""The life of one instrumented call: span start, timing, and finalization exactly once."""

from __future__ import annotations

import time
from contextvars import Token
from typing import Final

from opentelemetry.context import Context, attach, detach
from opentelemetry.trace import Span, set_span_in_context

from . import semconv
from ._errors import report_internal_error
from .adapters._adapter import Adapter
from .adapters.errors import describe_error
from .analyzers import Findings
from .emit import Telemetry
from .exchange import Exchange

__all__ = ["Invocation", "StreamEnd"]

NO_FINDINGS: Final = Findings()


class StreamEnd:
    """Values of ``sentinel.stream.end``: how a stream's span came to end."""

    COMPLETED: Final = "completed"
    ERROR: Final = "error"
    CLOSED: Final = "closed"
    ABANDONED: Final = "abandoned"


class Invocation:
    """One call's span and clock. :meth:`finish` ends both, once, whatever happens.

    It is created before the call and :meth:`start`-ed when the call really begins
    (for async calls, when the coroutine first runs). If starting fails, the invocation
    is inert: :meth:`finish` does nothing, and the call runs untouched.
    """

    __slots__ = (
        "_done",
        "adapter",
        "context",
        "exchange",
        "findings",
        "span",
        "start_ns",
        "started",
        "telemetry",
    )

    def __init__(self, telemetry: Telemetry, exchange: Exchange, adapter: Adapter) -> None:
        self.telemetry = telemetry
        self.exchange = exchange
        self.adapter = adapter
        self.span: Span | None = None
        self.context: Context | None = None
        self.start_ns = 0
        self.started = 0.0
        self._done = False
        self.findings: Findings = NO_FINDINGS
        """What the analyzers found, once finished (the wrappers apply the output policy)."""

    def start(self) -> None:
        """Start the clock and the span; on failure, report it and become inert."""
        try:
            self.start_ns = time.time_ns()
            self.started = time.perf_counter()
            self.span = self.telemetry.start_span(self.exchange, self.start_ns)
            self.context = set_span_in_context(self.span)
        except Exception:
            self._done = True
            report_internal_error("span start")

    def activate(self) -> Token[Context] | None:
        """Make the span current for the call; returns the token :meth:`deactivate` takes."""
        try:
            return None if self.context is None else attach(self.context)
        except Exception:
            report_internal_error("context attach")
            return None

    @staticmethod
    def deactivate(token: Token[Context] | None) -> None:
        """Restore the context :meth:`activate` replaced (nothing for a ``None`` token)."""
        try:
            if token is not None:
                detach(token)
        except Exception:
            report_internal_error("context detach")

    @property
    def done(self) -> bool:
        """True once :meth:`finish` has run (or the invocation could not start)."""
        return self._done

    def finish(
        self,
        error: BaseException | None = None,
        *,
        ended_at: float | None = None,
    ) -> None:
        """End the span and record the metrics; later calls do nothing. Never raises.

        ``ended_at`` (a ``perf_counter`` reading) backdates the end, e.g. to the last
        chunk of an abandoned stream, so the span and the duration metric agree.
        """
        try:
            if self._done or self.span is None:
                return
            self._done = True
            exchange = self.exchange
            duration = (time.perf_counter() if ended_at is None else ended_at) - self.started
        except Exception:
            report_internal_error("span finalization")
            return
        try:
            if error is not None:
                exchange.error_type, exchange.error_message = describe_error(
                    error,
                    capture_content=self.telemetry.settings.capture_content,
                    schema_names=exchange.output_schema_names,
                )
        except Exception:
            report_internal_error("span finalization")
            exchange.error_type, exchange.error_message = semconv.ERROR_TYPE_OTHER, None
        try:
            findings = self.telemetry.analyze(exchange)
        except Exception:
            report_internal_error("analysis")
            findings = NO_FINDINGS
        self.findings = findings
        try:
            end = self.start_ns + int(duration * 1e9)
            self.telemetry.end_span(self.span, exchange, findings, error, end)
        except Exception:
            report_internal_error("span finalization")
        try:
            self.telemetry.record_metrics(exchange, findings, duration, self.context)
        except Exception:
            report_internal_error("metric recording")
        if findings.drift:
            try:
                self.telemetry.notify(findings)
            except Exception:
                report_internal_error("drift notification")
