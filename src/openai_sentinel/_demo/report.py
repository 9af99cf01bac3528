"""The demo's HTML report: one self-contained page from the day the demo ran.

The page loads nothing: its CSS is inline, its charts are inline SVG drawn here, it has
no script, and a Content-Security-Policy forbids every fetch, so it works offline and
from an attachment. Every value that comes from the data is HTML-escaped.

The input (``day``) is the JSON-compatible mapping the demo produces: ``title``,
``generated_at``, ``mode``, ``requests``, ``duration_seconds``, ``total_cost_usd``,
``phases``, ``models``, ``timeline``, ``alarms`` and ``security``. Missing or null parts
are shown as "no data", never an exception. Phases span request indexes ``start`` to
``end``.

Each chart is an ``<svg>`` in a ``<figure data-chart="NAME">``; its marks carry
``data-model``, ``data-x`` and ``data-value`` attributes so a test can count them against
the input. Time series of more than :data:`MAX_POINTS` calls per model are averaged in
buckets of consecutive calls; the polyline's ``data-count`` keeps the number of calls.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

__all__ = ["MAX_POINTS", "render_html", "write_report"]

MAX_POINTS: Final = 400
"""Most points drawn per model and time series; more calls are averaged in buckets."""
_HISTOGRAM_BINS: Final = 60
"""Bins of the security timeline."""

_WIDTH: Final = 760
_HEIGHT: Final = 280
_LEFT: Final = 72
_RIGHT: Final = 20
_TOP: Final = 40
_BOTTOM: Final = 44
_PLOT_RIGHT: Final = _WIDTH - _RIGHT
_PLOT_BOTTOM: Final = _HEIGHT - _BOTTOM

_PALETTE: Final = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#7f7f7f",
    "#8c564b",
)
"""Okabe-Ito, then two more: one colour per model, in the order of ``models``."""
_PERCENTILES: Final = (
    ("p50", "p50_s", "#9ecae1"),
    ("p95", "p95_s", "#3182bd"),
    ("p99", "p99_s", "#08306b"),
)
_SEVERITY_COLOURS: Final = {"warning": "#e69f00", "critical": "#c0392b"}
_SECURITY_COLOUR: Final = "#8e44ad"

_CSS: Final = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0 auto; max-width: 1040px; padding: 24px; color: #1d2329; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
.meta { color: #5b6570; margin: 0 0 16px; }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; padding: 0; }
.stats div { border: 1px solid #e3e6ea; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.stats dt { color: #5b6570; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.stats dd { margin: 0; font-size: 20px; font-weight: 600; }
.badge { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px;
  background: #eef3f8; color: #1f4e79; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e3e6ea; text-align: right;
  white-space: nowrap; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td.text { white-space: normal; }
thead th { background: #f6f8fa; font-weight: 600; }
tfoot td { font-weight: 600; }
.swatch-inline { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; }
figure { margin: 16px 0 24px; }
figcaption { color: #5b6570; font-size: 13px; margin-top: 4px; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg text { font-size: 11px; fill: #39424c; }
svg .axis line, svg .axis path { stroke: #8a939c; }
svg .grid { stroke: #eceff2; }
svg .no-data { font-size: 16px; fill: #8a939c; }
svg .phase-label { font-size: 10px; fill: #5b6570; }
svg .alarm-label { font-size: 10px; font-weight: 600; }
svg .bar-label { font-size: 10px; }
.warning { color: #a86f00; font-weight: 600; }
.critical { color: #c0392b; font-weight: 600; }
footer { color: #8a939c; font-size: 12px; margin-top: 40px; }
"""


# --- reading the input: JSON-compatible, maybe incomplete -----------------------------------


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (for None, booleans, strings, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _records(value: Any) -> list[Mapping[str, Any]]:
    """The mappings in a list (anything else is skipped)."""
    if not isinstance(value, (list, tuple)):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _text(value: Any, default: str = "") -> str:
    return default if value is None else str(value)


def _e(value: Any) -> str:
    """HTML-escaped text (quotes too: safe in attributes)."""
    return html.escape(_text(value), quote=True)


# --- formatting -----------------------------------------------------------------------------


def _usd(value: float | None) -> str:
    """Dollars with three significant digits below a dollar: ``$0.000153``, ``$12.30``."""
    if value is None:
        return "—"
    if value == 0:
        return "$0"
    decimals = min(8, max(2, 2 - math.floor(math.log10(abs(value)))))
    return f"${value:,.{decimals}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def _duration(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    if minutes < 120:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _ratio(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def _data_number(value: float) -> str:
    """A number for a ``data-`` attribute: eight significant digits, no exponent noise."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.8g}"


def _decimals(step: float) -> int:
    """How many decimals show every multiple of ``step`` exactly."""
    if step <= 0 or not math.isfinite(step):
        return 0
    decimals = max(0, math.ceil(-math.log10(step)))
    while decimals < 10 and abs(round(step, decimals) - step) > step * 1e-9:
        decimals += 1
    return decimals


# --- scales, ticks, axes --------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    """A linear map from the data interval ``lo..hi`` to the pixels ``start..stop``."""

    lo: float
    hi: float
    start: float
    stop: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        fraction = (value - self.lo) / span if span else 0.5
        return self.start + fraction * (self.stop - self.start)


def _ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round-numbered ticks covering ``lo..hi`` (1, 2, 2.5 or 5 times a power of ten;
    whole numbers only when ``integer``)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw and not (integer and multiple == 2.5 and magnitude < 10):
            step = multiple * magnitude
            break
    if integer:
        step = max(1.0, step)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(index * step, 12) for index in range(first, last + 1)]


def _format_ticks(ticks: Sequence[float], unit: str = "") -> list[str]:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = _decimals(step)
    if unit == "$":
        return [f"${tick:,.{decimals}f}" if tick else "$0" for tick in ticks]
    if unit == "s":
        return [f"{tick:.{decimals}f} s" for tick in ticks]
    return [f"{tick:,.{decimals}f}" for tick in ticks]


def _y_axis(ticks: Sequence[float], scale: _Scale, unit: str, title: str) -> list[str]:
    parts = ['<g class="axis y-axis">']
    for tick, label in zip(ticks, _format_ticks(ticks, unit), strict=True):
        y = _coordinate(scale(tick))
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_PLOT_RIGHT}" y1="{y}" y2="{y}"/>'
            f'<line x1="{_LEFT - 4}" x2="{_LEFT}" y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{_LEFT - 7}" y="{y}" text-anchor="end"'
            f' dominant-baseline="middle">{_e(label)}</text>'
        )
    parts.append(f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_PLOT_BOTTOM}"/>')
    middle = (_TOP + _PLOT_BOTTOM) / 2
    parts.append(
        f'<text class="axis-title" x="14" y="{_coordinate(middle)}" text-anchor="middle"'
        f' transform="rotate(-90 14 {_coordinate(middle)})">{_e(title)}</text></g>'
    )
    return parts


def _x_axis_linear(ticks: Sequence[float], scale: _Scale, title: str) -> list[str]:
    parts = [
        '<g class="axis x-axis">',
        f'<line x1="{_LEFT}" x2="{_PLOT_RIGHT}" y1="{_PLOT_BOTTOM}" y2="{_PLOT_BOTTOM}"/>',
    ]
    for tick, label in zip(ticks, _format_ticks(ticks), strict=True):
        x = _coordinate(scale(tick))
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{_PLOT_BOTTOM}" y2="{_PLOT_BOTTOM + 4}"/>'
            f'<text class="tick" x="{x}" y="{_PLOT_BOTTOM + 16}"'
            f' text-anchor="middle">{_e(label)}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="{_coordinate((_LEFT + _PLOT_RIGHT) / 2)}"'
        f' y="{_HEIGHT - 6}" text-anchor="middle">{_e(title)}</text></g>'
    )
    return parts


def _x_axis_bands(labels: Sequence[str], band: float, title: str) -> list[str]:
    parts = [
        '<g class="axis x-axis">',
        f'<line x1="{_LEFT}" x2="{_PLOT_RIGHT}" y1="{_PLOT_BOTTOM}" y2="{_PLOT_BOTTOM}"/>',
    ]
    fits = max(3, int(band / 6.5))
    for position, label in enumerate(labels):
        x = _coordinate(_LEFT + band * (position + 0.5))
        shown = label if len(label) <= fits else label[: fits - 1] + "…"
        parts.append(
            f'<text class="tick" x="{x}" y="{_PLOT_BOTTOM + 16}" text-anchor="middle">'
            f"<title>{_e(label)}</title>{_e(shown)}</text>"
        )
    parts.append(
        f'<text class="axis-title" x="{_coordinate((_LEFT + _PLOT_RIGHT) / 2)}"'
        f' y="{_HEIGHT - 6}" text-anchor="middle">{_e(title)}</text></g>'
    )
    return parts


class _Key(NamedTuple):
    """One entry of a legend: its label, colour and swatch (``rect``, ``line``, ``dash``)."""

    label: str
    colour: str
    kind: str = "rect"


def _legend(items: Sequence[_Key]) -> list[str]:
    """A row of swatches above the plot; wraps to a second row when long."""
    parts = ['<g class="legend">']
    x, y = float(_LEFT), 12.0
    for label, colour, kind in items:
        width = 22 + 6.5 * len(label)
        if x + width > _PLOT_RIGHT and x > _LEFT:
            x, y = float(_LEFT), y + 14
        if kind == "line":
            swatch = (
                f'<line class="swatch" x1="{_coordinate(x)}" x2="{_coordinate(x + 14)}"'
                f' y1="{_coordinate(y)}" y2="{_coordinate(y)}" stroke="{colour}"'
                ' stroke-width="2.5"/>'
            )
        elif kind == "dash":
            swatch = (
                f'<line class="swatch" x1="{_coordinate(x + 7)}" x2="{_coordinate(x + 7)}"'
                f' y1="{_coordinate(y - 6)}" y2="{_coordinate(y + 6)}" stroke="{colour}"'
                ' stroke-width="2" stroke-dasharray="3 2"/>'
            )
        else:
            swatch = (
                f'<rect class="swatch" x="{_coordinate(x)}" y="{_coordinate(y - 5)}"'
                f' width="12" height="10" rx="2" fill="{colour}"/>'
            )
        parts.append(
            f'<g class="legend-item" data-label="{_e(label)}">{swatch}'
            f'<text x="{_coordinate(x + 18)}" y="{_coordinate(y)}"'
            f' dominant-baseline="middle">{_e(label)}</text></g>'
        )
        x += width + 12
    parts.append("</g>")
    return parts


def _svg(name: str, description: str, body: Iterable[str]) -> str:
    return (
        f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}"'
        f' width="{_WIDTH}" height="{_HEIGHT}" role="img" aria-label="{_e(description)}"'
        f' data-chart-svg="{_e(name)}">' + "".join(body) + "</svg>"
    )


def _no_data(name: str, description: str, reason: str = "no data") -> str:
    return _svg(
        name,
        description,
        [
            f'<rect x="0.5" y="0.5" width="{_WIDTH - 1}" height="{_HEIGHT - 1}" fill="#fafbfc"'
            ' stroke="#e3e6ea"/>',
            f'<text class="no-data" x="{_WIDTH / 2}" y="{_HEIGHT / 2}" text-anchor="middle"'
            f' dominant-baseline="middle">{_e(reason)}</text>',
        ],
    )


def _figure(name: str, svg: str, caption: str, *, empty: bool) -> str:
    flag = ' data-empty="true"' if empty else ""
    return f'<figure data-chart="{_e(name)}"{flag}>{svg}<figcaption>{caption}</figcaption></figure>'


# --- the data, shaped for the charts --------------------------------------------------------


def _models(day: Mapping[str, Any]) -> list[str]:
    """Every model, in the order of ``models``, then as first seen in the timeline."""
    seen: dict[str, None] = {}
    for model in _mapping(day.get("models")):
        seen[str(model)] = None
    for record in (*_records(day.get("timeline")), *_records(day.get("alarms"))):
        if record.get("model") is not None:
            seen[str(record["model"])] = None
    return list(seen)


def _series(
    timeline: Sequence[Mapping[str, Any]], models: Sequence[str], field: str
) -> dict[str, list[tuple[float, float]]]:
    """Per model, the (request index, value) of the calls with a ``field`` value."""
    series: dict[str, list[tuple[float, float]]] = {model: [] for model in models}
    for position, record in enumerate(timeline):
        value = _number(record.get(field))
        if value is None:
            continue
        index = _number(record.get("index"))
        series.setdefault(_text(record.get("model"), "?"), []).append(
            (float(position) if index is None else index, value)
        )
    for points in series.values():
        points.sort()
    return {model: points for model, points in series.items() if points}


def _downsample(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most ``limit`` points: consecutive points averaged in equal buckets."""
    if len(points) <= limit:
        return list(points)
    buckets = []
    for bucket in range(limit):
        chunk = points[bucket * len(points) // limit : (bucket + 1) * len(points) // limit]
        buckets.append(
            (
                sum(x for x, _ in chunk) / len(chunk),
                sum(y for _, y in chunk) / len(chunk),
            )
        )
    return buckets


def _colours(models: Sequence[str]) -> dict[str, str]:
    return {model: _PALETTE[position % len(_PALETTE)] for position, model in enumerate(models)}


def _phases(day: Mapping[str, Any]) -> list[tuple[str, float, float, str]]:
    phases = []
    for phase in _records(day.get("phases")):
        start, end = _number(phase.get("start")), _number(phase.get("end"))
        if start is None or end is None:
            continue
        phases.append((_text(phase.get("name"), "?"), start, end, _text(phase.get("description"))))
    return phases


# --- the charts -----------------------------------------------------------------------------


def _phase_bands(phases: Sequence[tuple[str, float, float, str]], x: _Scale) -> list[str]:
    parts = ['<g class="phases">']
    for position, (name, start, end, description) in enumerate(phases):
        left = max(_LEFT, min(_PLOT_RIGHT, x(start)))
        right = max(_LEFT, min(_PLOT_RIGHT, x(end)))
        if right <= left:
            continue
        fill = "#f3f5f8" if position % 2 == 0 else "#ffffff"
        tip = f"{name}: {description}" if description else name
        parts.append(
            f'<rect class="phase" data-phase="{_e(name)}" x="{_coordinate(left)}" y="{_TOP}"'
            f' width="{_coordinate(right - left)}" height="{_PLOT_BOTTOM - _TOP}"'
            f' fill="{fill}"><title>{_e(tip)}</title></rect>'
        )
        if right - left >= 6.5 * min(len(name), 18) + 6:
            label = name if len(name) <= 18 else name[:17] + "…"
            parts.append(
                f'<text class="phase-label" x="{_coordinate(left + 3)}" y="{_TOP + 10}">'
                f"{_e(label)}</text>"
            )
    parts.append("</g>")
    return parts


def _time_extent(
    series: Mapping[str, Sequence[tuple[float, float]]], extra: Iterable[float]
) -> tuple[float, float]:
    xs = [x for points in series.values() for x, _ in points]
    xs.extend(extra)
    return (min(xs), max(xs)) if xs else (0.0, 1.0)


def _polylines(
    series: Mapping[str, Sequence[tuple[float, float]]],
    colours: Mapping[str, str],
    x: _Scale,
    y: _Scale,
    describe: Callable[[float], str],
) -> list[str]:
    parts = []
    for model, points in series.items():
        drawn = _downsample(points, MAX_POINTS)
        coordinates = " ".join(f"{_coordinate(x(px))},{_coordinate(y(py))}" for px, py in drawn)
        mean = sum(value for _, value in points) / len(points)
        parts.append(
            f'<polyline class="series" data-model="{_e(model)}" data-count="{len(points)}"'
            f' data-points="{len(drawn)}" data-value="{_data_number(mean)}" fill="none"'
            f' stroke="{colours.get(model, "#333")}" stroke-width="1.6"'
            f' stroke-linejoin="round" points="{coordinates}">'
            f"<title>{_e(model)}: {len(points)} calls, mean {_e(describe(mean))}</title>"
            "</polyline>"
        )
    return parts


def _label_rows(spans: Sequence[tuple[float, float]], rows: int) -> list[int]:
    """A row for each (left, right) label, in order, so that labels of a row do not overlap."""
    ends = [-math.inf] * rows
    chosen = []
    for left, right in spans:
        row = next((row for row in range(rows) if ends[row] < left), None)
        if row is None:
            row = min(range(rows), key=lambda row: ends[row])
        ends[row] = right + 4
        chosen.append(row)
    return chosen


def _confidence_chart(
    day: Mapping[str, Any], models: Sequence[str], colours: Mapping[str, str]
) -> str:
    name = "confidence"
    timeline = _records(day.get("timeline"))
    series = _series(timeline, models, "confidence")
    alarms = [
        alarm for alarm in _records(day.get("alarms")) if _number(alarm.get("index")) is not None
    ]
    caption = (
        "Confidence (mean token probability) of each call, by request index and model. "
        f"More than {MAX_POINTS} calls of a model are averaged in buckets of consecutive "
        "calls (the line's <code>data-count</code> keeps the number of calls). Dashed "
        "vertical lines: the alarms of the drift detectors, numbered as in the alarm table "
        "below. Shaded bands: the phases of the day."
    )
    if not series and not alarms:
        svg = _no_data(name, "confidence over time: no data")
        return _figure(name, svg, "Confidence over time: no call reported one.", empty=True)
    alarm_indexes = [_number(alarm.get("index")) or 0.0 for alarm in alarms]
    lo, hi = _time_extent(series, alarm_indexes)
    x_ticks = _ticks(lo, hi, 8, integer=True)
    x = _Scale(x_ticks[0], x_ticks[-1], _LEFT, _PLOT_RIGHT)
    values = [value for points in series.values() for _, value in points]
    y_ticks = _ticks(min(values, default=0.0), max(values, default=1.0), 5)
    label_rows = min(3, len(alarms))
    # a strip above the data for the phase names and the alarm labels
    y = _Scale(y_ticks[0], y_ticks[-1], _PLOT_BOTTOM, _TOP + 16 + 12 * label_rows)
    keys = [_Key(model, colours.get(model, "#333"), "line") for model in series]
    body = [
        *_phase_bands(_phases(day), x),
        *_y_axis(y_ticks, y, "", "confidence"),
        *_x_axis_linear(x_ticks, x, "request index"),
        *_polylines(series, colours, x, y, lambda value: f"{value:.3f}"),
    ]
    labels = []
    for number, alarm in enumerate(alarms, start=1):
        severity = _text(alarm.get("severity"), "warning")
        at = x(_number(alarm.get("index")) or 0.0)
        width = 6.2 * len(f"#{number} {severity}")
        left = at + 4 if at + 4 + width <= _PLOT_RIGHT else at - 4 - width
        labels.append((left, left + width))
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rows = _label_rows([labels[position] for position in order], max(1, label_rows))
    row_of = dict(zip(order, rows, strict=True))
    for number, (alarm, span) in enumerate(zip(alarms, labels, strict=True), start=1):
        index = _number(alarm.get("index")) or 0.0
        severity = _text(alarm.get("severity"), "warning")
        signal = _text(alarm.get("signal"), "?")
        model = _text(alarm.get("model"), "?")
        drop = _number(alarm.get("drop_percent"))
        colour = _SEVERITY_COLOURS.get(severity, "#c0392b")
        where = _coordinate(x(index))
        detail = f"#{number} {model} {signal} {severity}" + (
            "" if drop is None else f" ({drop:.1f}% worse)"
        )
        body.append(
            f'<line class="alarm" data-model="{_e(model)}" data-severity="{_e(severity)}"'
            f' data-signal="{_e(signal)}" data-x="{_data_number(index)}" x1="{where}"'
            f' x2="{where}" y1="{_TOP}" y2="{_PLOT_BOTTOM}" stroke="{colour}"'
            f' stroke-width="2" stroke-dasharray="5 3">'
            f"<title>{_e(detail)} at request {index:g}</title></line>"
            f'<text class="alarm-label" x="{_coordinate(span[0])}"'
            f' y="{_TOP + 22 + 12 * row_of[number - 1]}" fill="{colour}">'
            f"<title>{_e(detail)}</title>#{number} {_e(severity)}</text>"
        )
        key = _Key(f"{severity} alarm", colour, "dash")
        if key not in keys:
            keys.append(key)
    body.extend(_legend(keys))
    if not series:
        body.append(
            f'<text class="no-data" x="{_WIDTH / 2}" y="{(_TOP + _PLOT_BOTTOM) / 2}"'
            ' text-anchor="middle">no confidence values</text>'
        )
    svg = _svg(name, "confidence over time per model, with drift alarms", body)
    return _figure(name, svg, caption, empty=False)


def _bar(
    left: float,
    width: float,
    value: float,
    y: _Scale,
    *,
    colour: str,
    attributes: str,
    tip: str,
    label: str | None = None,
) -> str:
    top, bottom = y(max(value, 0.0)), y(0.0)
    text = ""
    if label is not None:
        text = (
            f'<text class="bar-label" x="{_coordinate(left + width / 2)}"'
            f' y="{_coordinate(top - 4)}" text-anchor="middle">{_e(label)}</text>'
        )
    return (
        f'<rect class="bar" {attributes} data-value="{_data_number(value)}"'
        f' x="{_coordinate(left)}" y="{_coordinate(top)}" width="{_coordinate(width)}"'
        f' height="{_coordinate(max(0.0, bottom - top))}" fill="{colour}">'
        f"<title>{_e(tip)}</title></rect>{text}"
    )


def _cost_chart(day: Mapping[str, Any], models: Sequence[str], colours: Mapping[str, str]) -> str:
    name = "cost"
    table = _mapping(day.get("models"))
    costs = {
        model: _number(_mapping(table.get(model)).get("cost_per_request_usd")) for model in models
    }
    priced = {model: cost for model, cost in costs.items() if cost is not None}
    caption = "Mean cost per priced request, by model (USD, from the spans' cost attribute)."
    if not priced:
        svg = _no_data(name, "cost per request: no data")
        return _figure(name, svg, "Cost per request: no priced call.", empty=True)
    labels = list(costs)
    band = (_PLOT_RIGHT - _LEFT) / len(labels)
    y_ticks = _ticks(0.0, max(priced.values()) * 1.1 or 1.0, 5)
    y = _Scale(y_ticks[0], y_ticks[-1], _PLOT_BOTTOM, _TOP)
    body = [*_y_axis(y_ticks, y, "$", "USD per request"), *_x_axis_bands(labels, band, "model")]
    width = min(band * 0.6, 90)
    for position, (model, cost) in enumerate(costs.items()):
        left = _LEFT + band * position + (band - width) / 2
        if cost is None:
            body.append(
                f'<text class="bar-label" x="{_coordinate(left + width / 2)}"'
                f' y="{_PLOT_BOTTOM - 6}" text-anchor="middle">unpriced</text>'
            )
            continue
        body.append(
            _bar(
                left,
                width,
                cost,
                y,
                colour=colours.get(model, "#333"),
                attributes=f'data-model="{_e(model)}"',
                tip=f"{model}: {_usd(cost)} per request",
                label=_usd(cost),
            )
        )
    body.extend(_legend([_Key(model, colours.get(model, "#333")) for model in priced]))
    svg = _svg(name, "cost per request by model", body)
    return _figure(name, svg, caption, empty=False)


def _cost_timeline_chart(
    day: Mapping[str, Any], models: Sequence[str], colours: Mapping[str, str]
) -> str:
    name = "cost-timeline"
    series = _series(_records(day.get("timeline")), models, "cost_usd")
    caption = (
        "Cost of each call over the day, by model (USD): a step up inside a phase is a cost "
        f"regression. More than {MAX_POINTS} calls of a model are averaged in buckets of "
        "consecutive calls."
    )
    if not series:
        svg = _no_data(name, "cost over time: no data")
        return _figure(name, svg, "Cost over time: no priced call.", empty=True)
    lo, hi = _time_extent(series, ())
    x_ticks = _ticks(lo, hi, 8, integer=True)
    x = _Scale(x_ticks[0], x_ticks[-1], _LEFT, _PLOT_RIGHT)
    values = [value for points in series.values() for _, value in points]
    y_ticks = _ticks(0.0, max(values) or 1.0, 5)
    y = _Scale(y_ticks[0], y_ticks[-1], _PLOT_BOTTOM, _TOP + 16)  # the phase names above the data
    body = [
        *_phase_bands(_phases(day), x),
        *_y_axis(y_ticks, y, "$", "USD per call"),
        *_x_axis_linear(x_ticks, x, "request index"),
        *_polylines(series, colours, x, y, _usd),
        *_legend([_Key(model, colours.get(model, "#333"), "line") for model in series]),
    ]
    svg = _svg(name, "cost per call over time per model", body)
    return _figure(name, svg, caption, empty=False)


def _latency_chart(
    day: Mapping[str, Any], models: Sequence[str], colours: Mapping[str, str]
) -> str:
    name = "latency"
    table = _mapping(day.get("models"))
    rows = {
        model: [
            (label, _number(_mapping(table.get(model)).get(key)), colour)
            for label, key, colour in _PERCENTILES
        ]
        for model in models
    }
    values = [value for row in rows.values() for _, value, _ in row if value is not None]
    caption = "Latency percentiles per model (seconds, whole calls; streams until their end)."
    if not values:
        svg = _no_data(name, "latency: no data")
        return _figure(name, svg, "Latency: no call measured.", empty=True)
    labels = list(rows)
    band = (_PLOT_RIGHT - _LEFT) / len(labels)
    y_ticks = _ticks(0.0, max(values) * 1.1 or 1.0, 5)
    y = _Scale(y_ticks[0], y_ticks[-1], _PLOT_BOTTOM, _TOP)
    body = [*_y_axis(y_ticks, y, "s", "seconds"), *_x_axis_bands(labels, band, "model")]
    width = min(band * 0.8 / len(_PERCENTILES), 36)
    for position, (model, row) in enumerate(rows.items()):
        left = _LEFT + band * position + (band - width * len(row)) / 2
        for offset, (percentile, value, colour) in enumerate(row):
            if value is None:
                continue
            body.append(
                _bar(
                    left + offset * width,
                    width - 2,
                    value,
                    y,
                    colour=colour,
                    attributes=f'data-model="{_e(model)}" data-percentile="{percentile}"',
                    tip=f"{model}: {percentile} {_seconds(value)}",
                    label=_seconds(value) if width >= 34 else None,
                )
            )
    body.extend(_legend([_Key(label, colour) for label, _, colour in _PERCENTILES]))
    svg = _svg(name, "latency percentiles per model", body)
    return _figure(name, svg, caption, empty=False)


def _security_counts(day: Mapping[str, Any]) -> Counter[str]:
    """Findings per category: ``security.by_category``, else counted from the timeline."""
    counts: Counter[str] = Counter()
    for category, count in _mapping(_mapping(day.get("security")).get("by_category")).items():
        value = _number(count)
        if value is not None and value > 0:
            counts[str(category)] += int(value)
    if counts:
        return counts
    for record in _records(day.get("timeline")):
        found = record.get("security")
        if isinstance(found, (list, tuple)):
            counts.update(str(category) for category in found)
    return counts


def _security_chart(day: Mapping[str, Any]) -> str:
    name = "security"
    counts = _security_counts(day)
    actions = _mapping(_mapping(day.get("security")).get("by_action"))
    action_text = ", ".join(
        f"{_e(action)} {_integer(count)}" for action, count in actions.items() if _integer(count)
    )
    caption = "Security findings by category (a call may have several)." + (
        f" By action: {action_text}." if action_text else ""
    )
    if not counts:
        svg = _no_data(name, "security findings: none")
        return _figure(name, svg, "Security findings: none.", empty=True)
    labels = [category for category, _ in counts.most_common()]
    band = (_PLOT_RIGHT - _LEFT) / len(labels)
    y_ticks = _ticks(0.0, max(counts.values()) * 1.1, 5, integer=True)
    y = _Scale(y_ticks[0], y_ticks[-1], _PLOT_BOTTOM, _TOP)
    body = [*_y_axis(y_ticks, y, "", "findings"), *_x_axis_bands(labels, band, "category")]
    width = min(band * 0.6, 70)
    for position, category in enumerate(labels):
        left = _LEFT + band * position + (band - width) / 2
        body.append(
            _bar(
                left,
                width,
                counts[category],
                y,
                colour=_SECURITY_COLOUR,
                attributes=f'data-category="{_e(category)}"',
                tip=f"{category}: {counts[category]}",
                label=str(counts[category]),
            )
        )
    body.extend(_legend([_Key("findings", _SECURITY_COLOUR)]))
    svg = _svg(name, "security findings by category", body)
    return _figure(name, svg, caption, empty=False)


def _security_timeline_chart(day: Mapping[str, Any]) -> str:
    name = "security-timeline"
    timeline = _records(day.get("timeline"))
    flagged: list[float] = []
    indexes: list[float] = []
    for position, record in enumerate(timeline):
        index = _number(record.get("index"))
        index = float(position) if index is None else index
        indexes.append(index)
        found = record.get("security")
        if isinstance(found, (list, tuple)) and found:
            flagged.append(index)
    if not flagged:
        svg = _no_data(name, "security findings over time: none")
        return _figure(name, svg, "Calls with a security finding over time: none.", empty=True)
    lo, hi = min(indexes), max(indexes)
    size = max(1, math.ceil((hi - lo + 1) / _HISTOGRAM_BINS))
    bins = Counter(int((index - lo) // size) for index in flagged)
    count = int((hi - lo) // size) + 1
    x = _Scale(lo, lo + count * size, _LEFT, _PLOT_RIGHT)
    x_ticks = [
        tick
        for tick in _ticks(lo, lo + count * size, 8, integer=True)
        if lo <= tick <= lo + count * size
    ]
    y_ticks = _ticks(0.0, max(bins.values()) * 1.1, 4, integer=True)
    y = _Scale(y_ticks[0], y_ticks[-1], _PLOT_BOTTOM, _TOP + 16)  # the phase names above the data
    body = [
        *_phase_bands(_phases(day), x),
        *_y_axis(y_ticks, y, "", "calls"),
        *_x_axis_linear(x_ticks, x, "request index"),
    ]
    for number in range(count):
        start = lo + number * size
        value = bins.get(number, 0)
        if not value:
            continue
        body.append(
            _bar(
                x(start) + 0.5,
                max(1.0, x(start + size) - x(start) - 1),
                value,
                y,
                colour=_SECURITY_COLOUR,
                attributes=f'data-x="{_data_number(start)}"',
                tip=f"requests {start:g}-{start + size - 1:g}: {value} calls with findings",
            )
        )
    body.extend(_legend([_Key(f"calls with a finding, per {size} requests", _SECURITY_COLOUR)]))
    svg = _svg(name, "calls with security findings over time", body)
    caption = (
        f"Calls with at least one security finding, per bin of {size} requests: a wave of "
        "injection attempts shows as a block of tall bars."
    )
    return _figure(name, svg, caption, empty=False)


# --- tables ---------------------------------------------------------------------------------


def _summary_table(
    day: Mapping[str, Any], models: Sequence[str], colours: Mapping[str, str]
) -> str:
    table = _mapping(day.get("models"))
    head = (
        "<thead><tr><th>model</th><th>calls</th><th>streams</th><th>cost</th>"
        "<th>cost / request</th><th>p50</th><th>p95</th><th>p99</th><th>TTFT p95</th>"
        "<th>mean confidence</th><th>repeats</th><th>errors</th></tr></thead>"
    )
    rows = []
    totals = Counter[str]()
    total_cost = 0.0
    for model in (model for model in models if model in table):
        row = _mapping(table.get(model))
        cost = _number(row.get("cost_usd"))
        total_cost += cost or 0.0
        for key in ("calls", "streams", "repeats", "errors"):
            totals[key] += _integer(row.get(key))
        rows.append(
            f'<tr data-model="{_e(model)}"><td><span class="swatch-inline"'
            f' style="background:{colours.get(model, "#333")}"></span>{_e(model)}</td>'
            f"<td>{_integer(row.get('calls')):,}</td>"
            f"<td>{_integer(row.get('streams')):,}</td>"
            f"<td>{_usd(cost)}</td>"
            f"<td>{_usd(_number(row.get('cost_per_request_usd')))}</td>"
            f"<td>{_seconds(_number(row.get('p50_s')))}</td>"
            f"<td>{_seconds(_number(row.get('p95_s')))}</td>"
            f"<td>{_seconds(_number(row.get('p99_s')))}</td>"
            f"<td>{_seconds(_number(row.get('ttft_p95_s')))}</td>"
            f"<td>{_ratio(_number(row.get('confidence_mean')))}</td>"
            f"<td>{_integer(row.get('repeats')):,}</td>"
            f"<td>{_integer(row.get('errors')):,}</td></tr>"
        )
    if not rows:
        return '<p class="empty">No model answered.</p>' + (
            f'<table class="summary">{head}<tbody></tbody></table>'
        )
    foot = (
        f"<tfoot><tr><td>all</td><td>{totals['calls']:,}</td><td>{totals['streams']:,}</td>"
        f"<td>{_usd(total_cost)}</td>"
        f"<td>{_usd(total_cost / totals['calls'] if totals['calls'] else None)}</td>"
        "<td></td><td></td><td></td><td></td><td></td>"
        f"<td>{totals['repeats']:,}</td><td>{totals['errors']:,}</td></tr></tfoot>"
    )
    return f'<table class="summary">{head}<tbody>{"".join(rows)}</tbody>{foot}</table>'


def _phase_table(day: Mapping[str, Any]) -> str:
    phases = _phases(day)
    if not phases:
        return '<p class="empty">No phases recorded.</p>'
    rows = "".join(
        f'<tr data-phase="{_e(name)}"><td>{_e(name)}</td><td>{start:g}</td><td>{end:g}</td>'
        f'<td class="text">{_e(description)}</td></tr>'
        for name, start, end, description in phases
    )
    return (
        '<table class="phases"><thead><tr><th>phase</th><th>from request</th>'
        '<th>to request</th><th class="text">what happens</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _alarm_table(day: Mapping[str, Any]) -> str:
    alarms = _records(day.get("alarms"))
    if not alarms:
        return '<p class="empty">No alarm fired.</p>'
    rows = []
    for number, alarm in enumerate(alarms, start=1):
        severity = _text(alarm.get("severity"), "?")
        drop = _number(alarm.get("drop_percent"))
        index = _number(alarm.get("index"))
        rows.append(
            f'<tr data-model="{_e(alarm.get("model"))}"><td>#{number}</td>'
            f"<td>{'—' if index is None else f'{index:g}'}</td>"
            f'<td class="text">{_e(alarm.get("model"))}</td>'
            f'<td class="text">{_e(alarm.get("signal"))}</td>'
            f'<td class="text {_e(severity)}">{_e(severity)}</td>'
            f"<td>{'—' if drop is None else f'{drop:.1f}%'}</td></tr>"
        )
    return (
        '<table class="alarms"><thead><tr><th>alarm</th><th>request</th><th class="text">model</th>'
        '<th class="text">signal</th><th class="text">severity</th><th>drop</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# --- the page -------------------------------------------------------------------------------


def render_html(day: Mapping[str, Any]) -> str:
    """The report of ``day`` as one self-contained HTML page."""
    day = _mapping(day)
    models = _models(day)
    colours = _colours(models)
    title = _text(day.get("title"), "openai-sentinel demo") or "openai-sentinel demo"
    mode = _text(day.get("mode"))
    requests = _number(day.get("requests"))
    if requests is None:
        requests = float(len(_records(day.get("timeline"))))
    stats = (
        ("requests", f"{int(requests):,}"),
        ("duration", _duration(_number(day.get("duration_seconds")))),
        ("total cost", _usd(_number(day.get("total_cost_usd")))),
        ("models", str(len(models))),
        ("alarms", str(len(_records(day.get("alarms"))))),
    )
    stat_items = "".join(f"<div><dt>{_e(label)}</dt><dd>{_e(v)}</dd></div>" for label, v in stats)
    generated = _text(day.get("generated_at"))
    meta = f'generated <time datetime="{_e(generated)}">{_e(generated)}</time>' if generated else ""
    badge = f' <span class="badge">{_e(mode)}</span>' if mode else ""
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<header><h1>{_e(title)}{badge}</h1><p class=meta>{meta}</p>",
            f'<dl class="stats">{stat_items}</dl></header>',
            "<main>",
            '<section id="summary"><h2>Per model</h2>',
            _summary_table(day, models, colours),
            "</section>",
            '<section id="quality"><h2>Confidence and drift</h2>',
            _confidence_chart(day, models, colours),
            "</section>",
            '<section id="cost"><h2>Cost</h2>',
            _cost_chart(day, models, colours),
            _cost_timeline_chart(day, models, colours),
            "</section>",
            '<section id="latency"><h2>Latency</h2>',
            _latency_chart(day, models, colours),
            "</section>",
            '<section id="security"><h2>Security</h2>',
            _security_chart(day),
            _security_timeline_chart(day),
            "</section>",
            '<section id="phases"><h2>Phases of the day</h2>',
            _phase_table(day),
            "</section>",
            '<section id="alarms"><h2>Alarms</h2>',
            _alarm_table(day),
            "</section>",
            "</main>",
            "<footer>openai-sentinel demo report: a single file, no external resources.</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_report(day: Mapping[str, Any], path: str | Path) -> Path:
    """Write the report of ``day`` to ``path`` (UTF-8, parent folders created); returns it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(day), encoding="utf-8")
    return target
