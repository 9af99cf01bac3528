"""How the redaction patterns scale on large adversarial input (they must stay linear).

Run: ``python bench/redaction_scaling.py``. For each input family it times ``redact``
at growing sizes and reports the time ratio per doubling of the input: about 2 means
linear, about 4 would mean quadratic backtracking.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise

from openai_sentinel.analyzers.redaction import redact

FAMILIES: dict[str, Callable[[int], str]] = {
    "almost-email": lambda n: ("a." * n) + "@" + ("b-" * n),
    "local-part run": lambda n: "x" * (2 * n) + "@",
    "almost-key": lambda n: " sk-" * n,
    "bearer run": lambda n: "Bearer " + "a" * (2 * n),
    "plain prose": lambda n: "the quick brown fox jumps over the lazy dog " * (n // 20 + 1),
}
SIZES = (25_000, 50_000, 100_000, 200_000)


def _best_of(text: str, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        redact(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    print(f"{'input':<16}" + "".join(f"{size:>12,}" for size in SIZES) + "   ratio/doubling")
    for name, make in FAMILIES.items():
        timings = [_best_of(make(size)) for size in SIZES]
        ratios = [later / earlier for earlier, later in pairwise(timings) if earlier]
        worst = max(ratios) if ratios else 0.0
        cells = "".join(f"{t * 1e3:>10.2f}ms" for t in timings)
        verdict = "linear" if worst < 3.0 else "SUPERLINEAR"
        print(f"{name:<16}{cells}   {worst:4.2f} ({verdict})")


if __name__ == "__main__":
    main()
