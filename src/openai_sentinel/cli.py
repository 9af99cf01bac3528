"""The ``openai-sentinel`` command: ``demo`` and ``simulator``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openai-sentinel", description="OpenTelemetry instrumentation for the OpenAI client."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run a few dozen instrumented calls (embedded simulator unless --live) "
        "and print spans, metrics and a summary",
    )
    demo.add_argument("--calls", type=int, default=30, help="number of calls (default 30)")
    demo.add_argument(
        "--live", action="store_true", help="talk to the real OpenAI API (needs OPENAI_API_KEY)"
    )
    demo.add_argument(
        "--json", action="store_true", help="print spans and metrics as the SDK's full JSON"
    )
    demo.add_argument(
        "--capture-content", action="store_true", help="record (redacted) message content"
    )
    simulator = commands.add_parser(
        "simulator", help="serve the OpenAI-compatible simulator in the foreground"
    )
    simulator.add_argument("simulator_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        from .simulator.__main__ import main as simulator_main

        return simulator_main(list(args.simulator_args))
    if args.calls < 4:
        print("openai-sentinel demo: --calls must be at least 4", file=sys.stderr)
        return 2
    from ._demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            calls=args.calls,
            live=args.live,
            json_output=args.json,
            capture_content=args.capture_content,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
