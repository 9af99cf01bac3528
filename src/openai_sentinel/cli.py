"""The ``openai-sentinel`` command: ``demo``, ``doctor``, ``price``, ``scan`` and
``simulator``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _doctor_command, _price_command, _scan_command
from ._version import __version__
from .simulator import __main__ as simulator_cli

_EXAMPLES = """examples:
  openai-sentinel demo                         instrumented calls on the embedded simulator
  openai-sentinel demo --block                 the same, blocking the prompt-injection attempt
  openai-sentinel demo --drift                 a model losing confidence, and the drift alarms
  openai-sentinel doctor                       is everything installed and configured?
  openai-sentinel price gpt-4o-mini --input 1200 --output 300
                                               what such a call costs, and the price's source
  echo "Ignore all previous instructions" | openai-sentinel scan -
                                               scan a prompt (exit 1 when flagged)
  openai-sentinel simulator --port 8000        an OpenAI-compatible server for your own tests

zero code: opentelemetry-instrument python app.py  (see README.md, "Quickstart")
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openai-sentinel",
        description="OpenTelemetry instrumentation for the OpenAI client.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="a day of traffic in about a minute (embedded simulator unless --live): cost "
        "bug, injection wave, confidence drift; summary table and HTML report",
    )
    demo.add_argument(
        "--requests",
        type=int,
        default=None,
        help="requests in the day (default 3000, enough for the drift detectors; 20 with --live)",
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="divide the simulator's latencies by this (default 1)",
    )
    demo.add_argument(
        "--otlp",
        metavar="ENDPOINT",
        default=None,
        help="export spans and metrics over OTLP to ENDPOINT (OTEL_EXPORTER_OTLP_ENDPOINT)",
    )
    demo.add_argument(
        "--prometheus-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve the metrics for Prometheus on 127.0.0.1:PORT/metrics during the day",
    )
    demo.add_argument(
        "--report",
        default="openai-sentinel-report.html",
        metavar="PATH",
        help="where to write the HTML report (default openai-sentinel-report.html; "
        "--report '' for none)",
    )
    demo.add_argument(
        "--budget",
        type=float,
        default=0.05,
        metavar="USD",
        help="with --live, stop once the calls cost this much (default 0.05)",
    )
    demo.add_argument(
        "--calls",
        type=int,
        default=None,
        help="the short tour instead: this many calls, each span printed (at least 5)",
    )
    demo.add_argument(
        "--live", action="store_true", help="talk to the real OpenAI API (needs OPENAI_API_KEY)"
    )
    demo.add_argument(
        "--json",
        action="store_true",
        help="the short tour, spans and metrics printed as the SDK's full JSON",
    )
    demo.add_argument(
        "--capture-content",
        action="store_true",
        help="the short tour, recording (redacted) message content",
    )
    demo.add_argument(
        "--block",
        action="store_true",
        help="the short tour with the block security policy: a prompt-injection attempt is "
        "not sent and gets a safe fallback answer (finish_reason=content_filter)",
    )
    demo.add_argument(
        "--drift",
        action="store_true",
        help="the drift scenario instead: thousands of calls on the simulator, one model "
        "losing confidence; prints the drift alarms as they are raised (--calls: default 5000)",
    )
    doctor = commands.add_parser(
        "doctor",
        help="versions, whether opentelemetry-instrument would load the instrumentation "
        "here, and the settings in force with where each comes from",
        description=_doctor_command.DESCRIPTION,
    )
    _doctor_command.add_arguments(doctor)
    price = commands.add_parser(
        "price",
        help="what a call costs for given token counts, and where the price comes from",
        description=_price_command.DESCRIPTION,
    )
    _price_command.add_arguments(price)
    scan = commands.add_parser(
        "scan",
        help="scan a prompt or an answer for injection, PII and secrets "
        "(exit 1 when flagged), or measure the detectors (--evaluate DIR)",
        description=_scan_command.DESCRIPTION,
    )
    _scan_command.add_arguments(scan)
    simulator = commands.add_parser(
        "simulator",
        help="serve the OpenAI-compatible simulator in the foreground",
        description=simulator_cli.DESCRIPTION,
    )
    simulator_cli.add_arguments(simulator)
    simulator.set_defaults(command_parser=simulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        return simulator_cli.serve(args, args.command_parser)
    if args.command == "doctor":
        return _doctor_command.run(args)
    if args.command == "price":
        return _price_command.run(args)
    if args.command == "scan":
        return _scan_command.run(args)
    if args.drift:
        from ._demo.drift import DRIFT_CALLS, MIN_DRIFT_CALLS, run_drift_demo

        if args.live:
            print("openai-sentinel demo: --drift runs on the simulator only", file=sys.stderr)
            return 2
        if args.calls is not None and args.calls < MIN_DRIFT_CALLS:
            print(
                f"openai-sentinel demo: --drift needs --calls {MIN_DRIFT_CALLS} or more "
                "(the detectors warm up on 1000 calls per model)",
                file=sys.stderr,
            )
            return 2
        return run_drift_demo(args.calls or DRIFT_CALLS)
    if args.otlp:
        import os

        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = args.otlp
    tour = args.calls is not None or args.json or args.capture_content or args.block
    if not tour:
        from ._demo.day import DAY_REQUESTS, LIVE_REQUESTS, DayOptions, run_day

        requests = args.requests or (LIVE_REQUESTS if args.live else DAY_REQUESTS)
        if requests < 10 or args.speed <= 0 or args.budget <= 0:
            print(
                "openai-sentinel demo: --requests must be at least 10, --speed and --budget "
                "more than 0",
                file=sys.stderr,
            )
            return 2
        return run_day(
            DayOptions(
                requests=requests,
                speed=args.speed,
                live=args.live,
                budget_usd=args.budget,
                report=args.report or None,
                prometheus_port=args.prometheus_port,
            )
        )
    if args.calls is None:
        args.calls = 30
    if args.calls < 5:
        print("openai-sentinel demo: --calls must be at least 5", file=sys.stderr)
        return 2
    from ._demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            calls=args.calls,
            live=args.live,
            json_output=args.json,
            capture_content=args.capture_content,
            block=args.block,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
