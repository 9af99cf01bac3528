"""Drift of a per-request value (answer confidence, output length, truncation), in process.

:class:`ConfidenceDriftDetector` watches one stream of values, one per request of one
(model, operation), and says when its level has dropped (or, for a rate of bad events,
risen) for good: not a burst of bad answers, not the daily cycle, a drift. It is plain
Python with constant memory and a couple of microseconds per value, and knows neither
the ``openai`` client nor OpenTelemetry. It is not thread-safe: callers hold a lock.

How it decides, in short (the class docstring has the details, ``bench/drift.py`` the
figures):

* a **warm-up** (1,000 values, bursts left out) gives the baseline: mean, spread, median;
* each value becomes a bounded **score** of how bad it is against the baseline (in
  standard deviations, clipped at 1, nothing within 0.4 of the median);
* two **one-sided CUSUM** tests add up the log-likelihood ratio of "the level dropped by
  X%" against "no change", the alternative being the baseline distribution tilted
  exponentially along the score, so that a threshold means the same false-alarm rate for
  any shape of the baseline (Beta, bimodal, 0/1): a *sensitive* test tuned to a 3% drop,
  whose baseline follows slow movement of the level (time constant 5,000 values), and a
  *fast* test tuned to an 8% drop, whose baseline (20,000 values) is too slow to follow a
  drift spread over a few thousand requests;
* **bursts** (most of the last 16 values bad) are held out of the tests, and counted after
  all if they last too long to be a burst; the fast test confirms an alarm over 12 more
  values, the sensitive one wants a drop of at least 2.5% over its run;
* after an alarm the severity holds for 1,000 values, then the detector **re-baselines**
  on the new level and returns to ``"ok"``.

The balance between following slow movement and catching slow drifts: the sensitive
test's baseline forgets in about 5,000 values, which takes most of a daily cycle of +-1%
out of what it sees, and stops following while evidence of a drop builds up (past half
its threshold), so an abrupt drop is not absorbed. A drop spread over 10,000 requests
moves faster than any daily cycle, and the fast test's baseline, four times slower, lags
it by several percent: that test catches it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Final

from .. import semconv
from ._cusum import CLIP, DEAD_ZONE, LIMIT, CusumTest, score

__all__ = ["ConfidenceDriftDetector"]

OK: Final = semconv.DRIFT_OK
WARNING: Final = semconv.DRIFT_WARNING
CRITICAL: Final = semconv.DRIFT_CRITICAL

_BURST_WINDOW: Final = 16
"""A burst is judged on the last this many values."""
_WINDOW_MASK: Final = (1 << _BURST_WINDOW) - 1
_BURST_QUANTILE: Final = 0.1
_BURST_LIMIT: Final = 48
"""A burst whose held values outnumber this is no burst but a collapse: counted in full."""
_RECENT: Final = 1.0 / 256
"""Weight of a new value in the recent level behind :attr:`ConfidenceDriftDetector.drop`."""
_RECENT_SPAN: Final = 2.0 / _RECENT - 1.0
"""Values the recent level averages over, as far as its standard error goes."""
_EPISODE: Final = 20_000
"""Values without an alarm after which a drift is over: the next alarm starts a new one."""
_CRITICAL_RUN: Final = 32
"""A drop is judged critical on at least this many values."""


def _burst_count(bad_rate: float) -> int:
    """Bad values among the last ``_BURST_WINDOW`` that make a burst: a count that a stream
    whose bad rate tripled (at least +0.25, at most 1/2) reaches less than 10% of the time."""
    p = min(0.5, max(3.0 * bad_rate, bad_rate + 0.25))
    n = _BURST_WINDOW
    tail = 0.0
    for k in range(n, -1, -1):
        tail += math.comb(n, k) * p**k * (1.0 - p) ** (n - k)
        if tail > _BURST_QUANTILE:
            return max(k + 1, 3)
    return n + 1


def _without_bursts(values: Sequence[float], bad: list[bool], burst_count: int) -> list[float]:
    """``values`` less the bad ones inside a burst: ``burst_count`` or more bad values in
    the ``_BURST_WINDOW`` values centred on them."""
    half = _BURST_WINDOW // 2
    n = len(values)
    inside = sum(bad[:half])
    calm = []
    for i, x in enumerate(values):
        if i + half < n:
            inside += bad[i + half]
        if i - half >= 0:
            inside -= bad[i - half]
        if not (bad[i] and inside >= burst_count):
            calm.append(x)
    return calm


class ConfidenceDriftDetector:
    """Says when the level of a per-request value has drifted, one value at a time.

    Feed it one value per request with :meth:`update`: the answer's confidence (a
    probability in [0, 1]) by default. ``update`` returns ``True`` on the value that
    raises the :attr:`severity` (``"ok"`` to ``"warning"``, ``"warning"`` to
    ``"critical"``, or ``"ok"`` to ``"critical"``), ``False`` otherwise, including when
    the severity returns to ``"ok"``. The defaults are the tuned ones.

    **Warm-up.** The first ``warmup`` values make the baseline (mean, standard deviation,
    median, after leaving out bursts found among them); there is no alarm before. While
    the values are all the same the warm-up goes on. :attr:`drop` and :attr:`baseline` are
    ``None`` until it ends.

    **Direction.** ``direction="decrease"`` (the default) alarms on drops: of confidence,
    or of output length. ``direction="increase"`` alarms on rises: of the truncation rate,
    fed as 1 for a truncated answer and 0 otherwise.

    **The tests.** Each value becomes a bounded score of how bad it is: its distance to the
    baseline median in standard deviations, on the bad side, clipped at 1, and 0 within 0.4
    (in a bimodal stream the spread inside the main mode is noise; what moves is the share
    of the other mode). Two one-sided CUSUM tests add up ``theta * score - log
    E[exp(theta * score)]``, the log-likelihood ratio of the baseline tilted by ``theta``
    (the distribution whose mean is the tuned drop lower, found on the warm-up values)
    against the baseline itself; the sum ``S`` never goes below 0. Because the ratio's
    exponential has mean 1 under the baseline whatever its shape, a threshold on ``S``
    bounds the false-alarm rate the same way on Beta-like, bimodal or 0/1 values.

    * The *sensitive* test is tuned to ``small_drop`` (3%). Its baseline follows slow
      movement of the level with a time constant of 5,000 values (a daily cycle, slow
      wander), and stops following while ``S`` is past half its threshold, so that a drop
      is not absorbed while evidence of it builds up. At ``sensitive_threshold`` (14) it
      alarms if the values since ``S`` last was 0 are at least ``min_drop`` (2.5%) lower
      than its baseline: a statistically clear but small move is not worth an alarm.
    * The *fast* test is tuned to ``large_drop`` (8%), on a baseline with a time constant
      of 20,000 values, which a drift spread over a few thousand requests does not carry
      along. It alarms when ``S`` has stayed at ``fast_threshold`` (10.5) or above for 12
      more values: a confirmation that costs 12 requests of delay and screens out the end
      of a burst.

    **Bursts.** A value is bad when it is a standard deviation or more on the bad side. As
    many bad values among the last 16 as a stream whose bad rate tripled would show less
    than 10% of the time make a burst: its values are held out of both tests, what its
    start added is taken back, and all of it is forgotten when it ends. A burst that holds
    more than 48 values is a collapse: everything it held counts at once.

    **Severity.** An alarm is ``"critical"`` when the level over the fast test's run (the
    values since its ``S`` last was 0, at least 32 of them), less three standard errors,
    is ``critical_drop`` (10%) or more below the level the drift started from;
    ``"warning"`` otherwise, and a warning becomes critical when that holds later. After
    an alarm the severity holds for ``rebaseline`` values (1,000; at least ``warmup``),
    during which it can only rise; then the last ``warmup`` values become the new baseline
    and the severity returns to ``"ok"`` (``update`` returns ``False`` for that). A drop
    that goes on alarms again against the new baseline, and becomes critical once it adds
    up to ``critical_drop`` from where it started; the drift is over when a re-baseline
    finds the old level again, or after 20,000 values without an alarm.

    **Values.** ``NaN``, infinities and anything :func:`float` cannot convert are ignored
    (and not counted); finite values are clipped to [``low``, ``high``] (and to +-1e150).
    Output length:
    pass the token count with ``high=math.inf``; scores are in standard deviations of the
    baseline, so units do not matter, and :attr:`drop` stays relative. Truncation rate:
    ``direction="increase"`` with changes sized for a rate and a longer warm-up for rare
    events, e.g. ``small_drop=0.3, large_drop=0.8, min_drop=0.2, critical_drop=1.0,
    warmup=3000`` (rises of 30% and 80% tuned for, critical when it doubles).

    Memory is constant: one array of ``warmup`` floats and a few dozen numbers. An update
    costs about 2 µs; the one that ends a warm-up or a re-baseline a few milliseconds.
    """

    __slots__ = (
        "_burst",
        "_burst_k",
        "_count",
        "_critical_drop",
        "_episode_end",
        "_fast",
        "_filled",
        "_high",
        "_hold",
        "_hold_left",
        "_low",
        "_mask",
        "_ready",
        "_recent",
        "_reference",
        "_sensitive",
        "_severity",
        "_sign",
        "_tests",
        "_values",
    )

    def __init__(
        self,
        *,
        direction: str = "decrease",
        warmup: int = 1000,
        rebaseline: int = 1000,
        small_drop: float = 0.03,
        large_drop: float = 0.08,
        min_drop: float = 0.025,
        critical_drop: float = 0.10,
        sensitive_threshold: float = 14.0,
        fast_threshold: float = 10.5,
        low: float = 0.0,
        high: float = 1.0,
    ) -> None:
        if direction not in ("decrease", "increase"):
            raise ValueError("direction must be 'decrease' or 'increase'")
        if warmup < 16 or rebaseline < 1:
            raise ValueError("warmup must be at least 16 and rebaseline at least 1")
        if not (small_drop > 0.0 and large_drop > 0.0 and critical_drop > 0.0 and min_drop >= 0.0):
            raise ValueError("the drops must be positive (min_drop may be 0)")
        if not (sensitive_threshold > 0.0 and fast_threshold > 0.0 and low < high):
            raise ValueError("thresholds must be positive and low below high")
        self._sign = 1.0 if direction == "decrease" else -1.0
        self._hold = max(rebaseline, warmup)
        self._critical_drop = critical_drop
        self._low = max(low, -LIMIT)
        self._high = min(high, LIMIT)
        self._values = array("d", bytes(8 * warmup))
        self._sensitive = CusumTest(small_drop, sensitive_threshold, 5_000, 0, min_drop)
        self._fast = CusumTest(large_drop, fast_threshold, 20_000, 12, 0.0)
        self._tests = (self._sensitive, self._fast)
        self.reset()

    def reset(self) -> None:
        """Forget everything: a new warm-up starts with the next value."""
        self._count = 0
        self._filled = 0
        self._ready = False
        self._severity = OK
        self._hold_left = 0
        self._mask = 0
        self._burst = 0
        """Held values of the current burst; -1 after a collapse, until the window clears."""
        self._burst_k = _BURST_WINDOW + 1
        self._recent = 0.0
        self._reference = math.nan
        """The baseline before the current drift, kept across re-baselines; NaN if none."""
        self._episode_end = 0
        self._sensitive.clear()
        self._fast.clear()

    @property
    def severity(self) -> str:
        """``"ok"``, ``"warning"`` or ``"critical"``."""
        return self._severity

    @property
    def count(self) -> int:
        """Values taken into account (ignored ones are not counted)."""
        return self._count

    @property
    def baseline(self) -> float | None:
        """The baseline mean (of the fast test); ``None`` during the warm-up."""
        return self._fast.mean if self._ready else None

    @property
    def drop(self) -> float | None:
        """Relative drop of the current level against the baseline: 0.08 when it is 8%
        lower, negative when it is higher (a detector with ``direction="increase"`` that
        alarms shows a negative drop); ``None`` during the warm-up or when the baseline is
        0. The current level is the recent one (about the last 256 values) or, once an
        alarm is raised, the mean since the drift began if that is further on the
        watched side: right after an abrupt drop the recent level has not caught up."""
        fast = self._fast
        mean = fast.mean
        if not self._ready or mean == 0.0:
            return None
        sign = self._sign
        worse = sign * (mean - self._recent)
        if self._severity != OK and fast.run_n >= _CRITICAL_RUN:
            worse = max(worse, sign * (mean - fast.run_sum / fast.run_n))
        return sign * worse / abs(mean)

    def update(self, value: float) -> bool:
        """Take one value; ``True`` when the severity rises with it. Never raises."""
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            return False
        if not math.isfinite(x):
            return False
        if x < self._low:
            x = self._low
        elif x > self._high:
            x = self._high
        self._count += 1
        if not self._ready:
            self._keep(x)
            if self._filled % len(self._values) == 0:
                self._fit()
            return False

        return self._monitor(x)

    # -- internals ---------------------------------------------------------------------

    def _monitor(self, x: float) -> bool:
        """``update`` after the warm-up."""
        sign = self._sign
        fast = self._fast
        sensitive = self._sensitive
        r = sign * (fast.mean + fast.offset - x) * fast.inv_sd
        mask = ((self._mask << 1) | (r >= CLIP)) & _WINDOW_MASK
        self._mask = mask
        if self._burst or mask.bit_count() >= self._burst_k:
            return self._update_in_burst(x, r >= CLIP)
        r_fast = r
        r = sign * (sensitive.mean + sensitive.offset - x) * sensitive.inv_sd
        tilt_sensitive = sensitive.theta * score(r)
        tilt_fast = fast.theta * score(r_fast)
        alarm = self._advance(sensitive, tilt_sensitive, x)
        alarm = self._advance(fast, tilt_fast, x) or alarm
        self._recent += (x - self._recent) * _RECENT
        if self._severity != OK:
            return self._holding(x, alarm)
        if alarm:
            return self._raise()
        if sensitive.stat < sensitive.freeze:
            sensitive.track(x, tilt_sensitive)
        if fast.stat < fast.freeze:
            fast.track(x, tilt_fast)
        if not self._count & 1023:  # track() keeps log(moment) to first order: resync
            sensitive.k = math.log(sensitive.moment)
            fast.k = math.log(fast.moment)
        return False

    def _advance(self, test: CusumTest, tilt: float, x: float) -> bool:
        """Add ``x``'s log-likelihood ratio to ``test``; whether an alarm is due."""
        stat = test.stat + tilt - test.k
        if stat <= 0.0:
            test.stat = test.run_sum = 0.0
            test.run_n = test.pending = 0
            return False
        test.stat = stat
        test.run_n += 1
        test.run_sum += x
        if stat < test.threshold:
            test.pending = 0
            return False
        return self._due(test)

    def _update_in_burst(self, x: float, bad: bool) -> bool:
        """``update`` while a burst may be going on (rare: the slow path)."""
        hold, release, first = self._burst_state(self._mask.bit_count(), bad)
        sign = self._sign
        alarm = False
        for test in self._tests:
            step = test.theta * score(sign * (test.mean + test.offset - x) * test.inv_sd) - test.k
            if hold:
                if first:  # a burst starts: take back what its first values added
                    count = self._mask.bit_count() - 1
                    moved = min(test.stat, count * (test.theta * (CLIP - DEAD_ZONE) - test.k))
                    test.stat -= moved
                    test.held = moved
                test.held += step
                if not release:
                    continue
                step = test.held
                test.held = 0.0
            alarm = self._advance(test, step, x) or alarm
        if hold and not release:
            return False
        self._recent += (x - self._recent) * _RECENT
        if self._severity != OK:
            return self._holding(x, alarm)
        if alarm:
            return self._raise()
        for test in self._tests:
            if test.stat < test.freeze:
                tilt = test.theta * score(sign * (test.mean + test.offset - x) * test.inv_sd)
                test.track(x, tilt)
        return False

    def _raise(self) -> bool:
        """An alarm from ``"ok"``: warning or critical, and hold for the new baseline."""
        self._sensitive.pending = self._fast.pending = 0
        if math.isnan(self._reference) or self._count > self._episode_end:
            self._reference = self._fast.mean  # the level before this drift
        self._episode_end = self._count + self._hold + _EPISODE
        self._severity = CRITICAL if self._large() else WARNING
        self._hold_left = self._hold
        self._filled = 0
        return True

    def _keep(self, x: float) -> None:
        values = self._values
        values[self._filled % len(values)] = x
        self._filled += 1

    def _fit(self) -> bool:
        """Baseline from the kept values, bursts left out; ``False`` (still warming up)
        when they do not vary."""
        sign = self._sign
        values: Sequence[float] = self._values
        for _ in range(2):  # all values, then without the bursts found among them
            n = len(values)
            mean = math.fsum(values) / n
            var = math.fsum((x - mean) ** 2 for x in values) / n
            if not var > 0.0:
                return False
            median = sorted(values)[n // 2]
            inv_sd = 1.0 / math.sqrt(var)
            bad = [sign * (median - x) * inv_sd >= CLIP for x in values]
            self._burst_k = _burst_count(sum(bad) / n)
            calm = _without_bursts(values, bad, self._burst_k)
            if len(calm) == n or len(calm) < n // 2:
                break
            values = calm
        scores = [score(sign * (median - x) * inv_sd) for x in values]
        for test in self._tests:
            test.fit(values, scores, mean=mean, var=var, median=median, sign=sign)
        self._mask = 0
        self._burst = 0
        self._recent = mean
        self._ready = True
        return True

    def _burst_state(self, bad_count: int, bad: bool) -> tuple[bool, bool, bool]:
        """(hold this value out, release all held values now, the burst starts now)."""
        start = self._burst_k
        end = max(start // 2, start - 3)
        if self._burst < 0:  # after a collapse: count everything until the window clears
            if bad_count <= end:
                self._burst = 0
            return False, False, False
        if self._burst == 0 and bad_count < start:
            return False, False, False
        if bad_count <= end:  # the burst is over: forget what it held
            self._burst = 0
            self._sensitive.held = self._fast.held = 0.0
            return False, False, False
        if not bad:
            return False, False, False
        first = self._burst == 0
        self._burst += 1
        if self._burst > _BURST_LIMIT:
            self._burst = -1
            return True, True, first
        return True, False, first

    def _due(self, test: CusumTest) -> bool:
        """``test``'s sum is at its threshold: whether the alarm is due now."""
        if test.min_drop and self._sign * (
            test.mean - test.run_sum / test.run_n
        ) < test.min_drop * abs(test.mean):
            return False
        if test.confirm:
            if self._burst > 0:
                return False
            test.pending += 1
            return test.pending > test.confirm
        return True

    def _large(self) -> bool:
        """Whether the level over the fast test's run is surely ``critical_drop`` or more
        below the level before the drift (which re-baselining does not forget)."""
        fast = self._fast
        level = fast.mean if math.isnan(self._reference) else self._reference
        if fast.run_n < _CRITICAL_RUN or level == 0.0:
            return False
        error = 3.0 / (math.sqrt(fast.run_n) * fast.inv_sd)
        drop = self._sign * (level - fast.run_sum / fast.run_n) - error
        return drop >= self._critical_drop * abs(level)

    def _large_now(self) -> bool:
        """Whether the recent level (about the last 256 values) is surely
        ``critical_drop`` or more below the level before the drift: a drift that keeps
        going after its first alarm, within the hold, becomes critical."""
        fast = self._fast
        level = fast.mean if math.isnan(self._reference) else self._reference
        if level == 0.0 or fast.inv_sd == 0.0:
            return False
        error = 3.0 / (math.sqrt(_RECENT_SPAN) * fast.inv_sd)
        drop = self._sign * (level - self._recent) - error
        return drop >= self._critical_drop * abs(level)

    def _holding(self, x: float, alarm: bool) -> bool:
        """After an alarm: keep values for the new baseline, rise to critical if due."""
        self._keep(x)
        self._hold_left -= 1
        rose = False
        if self._severity == WARNING and ((alarm and self._large()) or self._large_now()):
            self._severity = CRITICAL
            rose = True
        if (
            self._hold_left <= 0
            and self._filled >= len(self._values)
            and self._filled % len(self._values) == 0
            and self._fit()
        ):
            self._severity = OK
            recovered = self._sign * (self._reference - self._fast.mean)
            if recovered < self._sensitive.min_drop * abs(self._reference):
                self._reference = math.nan  # back near the old level: the drift is over
        return rose
