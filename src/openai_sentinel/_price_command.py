"""``openai-sentinel price``: what a call of a model costs, and where the price comes from."""

from __future__ import annotations

import argparse
import os
import sys

from . import semconv
from .analyzers.cost import Cost, PriceBook
from .analyzers.price_overrides import PriceOverrides, load_price_overrides
from .config import SettingsError, env_name

__all__ = ["add_arguments", "run"]

DESCRIPTION = (
    "Price a call from its token counts, with the same prices and rules as the spans "
    "(genai-prices, then the prices file). Cached and cache-write tokens are part of "
    "--input, reasoning tokens part of --output."
)


def _count(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more tokens, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("model", help="model name as the API reports it, e.g. gpt-4o-mini")
    parser.add_argument("--input", type=_count, default=0, help="input tokens (all of them)")
    parser.add_argument("--output", type=_count, default=0, help="output tokens (all of them)")
    parser.add_argument(
        "--cached", type=_count, default=0, help="input tokens read from the prompt cache"
    )
    parser.add_argument(
        "--cache-write", type=_count, default=0, help="input tokens written to the prompt cache"
    )
    parser.add_argument(
        "--reasoning", type=_count, default=0, help="output tokens spent on reasoning"
    )
    parser.add_argument(
        "--provider",
        choices=(semconv.PROVIDER_OPENAI, semconv.PROVIDER_AZURE_OPENAI),
        default=semconv.PROVIDER_OPENAI,
        help="gen_ai.provider.name of the client (default openai)",
    )
    parser.add_argument(
        "--service-tier", default=None, help="the response's service tier: flex, priority…"
    )
    parser.add_argument(
        "--prices-file",
        default=None,
        help=f"YAML/JSON prices that win over genai-prices (default ${env_name('prices_file')})",
    )


def _usd(value: float) -> str:
    return f"${value:,.6f}"


def _report(args: argparse.Namespace, cost: Cost) -> str:
    tier = args.service_tier or "default"
    if cost.tier_multiplier is not None:
        tier += f" (x{cost.tier_multiplier:g} of the standard price)"
    input_detail = f"{args.input:,} tokens"
    if args.cached or args.cache_write:
        input_detail += f" ({args.cached:,} cached, {args.cache_write:,} cache-write)"
    output_detail = f"{args.output:,} tokens"
    if args.reasoning:
        output_detail += f" ({args.reasoning:,} reasoning)"
    rows = [
        ("model", f"{args.model} ({args.provider})"),
        ("service tier", tier),
        ("input", f"{input_detail:<42}{_usd(cost.input):>14}"),
        ("output", f"{output_detail:<42}{_usd(cost.output):>14}"),
        ("total", f"{'':<42}{_usd(cost.total):>14}"),
    ]
    if cost.cache_savings:
        rows.append(("cache saved", f"{'':<42}{_usd(cost.cache_savings):>14}"))
    rows.append(("source", cost.source))
    return "\n".join(f"{label:<14}{value}" for label, value in rows)


def run(args: argparse.Namespace) -> int:
    """Print the breakdown; 1 for a model without a price, 2 for bad arguments."""
    problems = []
    if args.cached + args.cache_write > args.input:
        problems.append("--cached and --cache-write are parts of --input: they exceed it")
    if args.reasoning > args.output:
        problems.append("--reasoning is part of --output: it exceeds it")
    if problems:
        print("openai-sentinel price: " + "; ".join(problems), file=sys.stderr)
        return 2
    path = args.prices_file or os.environ.get(env_name("prices_file"), "").strip() or None
    overrides: PriceOverrides | None = None
    if path:
        try:
            overrides = load_price_overrides(path)
        except SettingsError as error:
            print(error, file=sys.stderr)
            return 2
    book = PriceBook(overrides)
    cost = book.quote(
        args.model,
        provider=args.provider,
        service_tier=args.service_tier,
        input_tokens=args.input,
        output_tokens=args.output,
        cached=args.cached,
        written=args.cache_write,
    )
    if cost is None:
        where = f"{book.source}" + (f" or {overrides.label}" if overrides else "")
        print(
            f"openai-sentinel price: no price for {args.model!r} ({args.provider}) in {where}; "
            f"give it one in a prices file (${env_name('prices_file')})",
            file=sys.stderr,
        )
        return 1
    print(_report(args, cost))
    return 0
