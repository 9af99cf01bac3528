"""``python -m openai_sentinel.simulator``: run the simulator in the foreground.

``openai-sentinel simulator`` runs the same code with the same options: both build their
parser with :func:`add_arguments` and serve with :func:`serve`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from ._config import SimulatorConfig
from ._simulator import Simulator

DESCRIPTION = "Run an OpenAI-compatible simulator server in the foreground (Ctrl-C stops it)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options (``--host``, ``--port``, ``--ttft``, ``--itl``) to ``parser``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind (default: 0, which picks a free one)"
    )
    parser.add_argument(
        "--ttft", type=float, default=0.0, help="seconds before the first token (default: 0)"
    )
    parser.add_argument(
        "--itl", type=float, default=0.0, help="seconds between tokens (default: 0)"
    )


def serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Serve until SIGINT or SIGTERM; print the base URL first. Bad values exit via ``parser``."""
    try:
        config = SimulatorConfig(time_to_first_token=args.ttft, inter_token_delay=args.itl)
    except ValueError as error:
        parser.error(str(error))
    simulator = Simulator(config, host=args.host, port=args.port)
    try:
        base_url = simulator.start()
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    stop_requested = threading.Event()
    previous_handlers = _set_stop_handlers(stop_requested)
    try:
        print(base_url, flush=True)
        stop_requested.wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line) and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m openai_sentinel.simulator", description=DESCRIPTION
    )
    add_arguments(parser)
    return serve(parser.parse_args(argv), parser)


def _set_stop_handlers(stop_requested: threading.Event) -> dict[int, Any]:
    """Stop on SIGINT and SIGTERM, even when started with SIGINT ignored (``cmd &``)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    return {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }


if __name__ == "__main__":
    raise SystemExit(main())
