"""``python -m openai_sentinel.simulator``: run the simulator in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from ._config import SimulatorConfig
from ._simulator import Simulator


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted (Ctrl-C); print the base URL first."""
    parser = argparse.ArgumentParser(
        prog="python -m openai_sentinel.simulator",
        description="Run an OpenAI-compatible simulator server.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds before the first token")
    parser.add_argument("--itl", type=float, default=0.0, help="seconds between tokens")
    args = parser.parse_args(argv)
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
