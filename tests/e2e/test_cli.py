"""``openai-sentinel simulator`` and ``python -m openai_sentinel.simulator``, as subprocesses."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys

import openai
import pytest

CLI = (sys.executable, "-m", "openai_sentinel.cli", "simulator")
MODULE = (sys.executable, "-m", "openai_sentinel.simulator")
COMMANDS = pytest.mark.parametrize("command", [CLI, MODULE], ids=["cli", "module"])
OPTIONS = ("--host", "--port", "--ttft", "--itl")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=60, check=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _first_line(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The first line the process prints, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), "the simulator printed nothing"
    return process.stdout.readline().strip()


@COMMANDS
def test_simulator_help_lists_its_options(command: tuple[str, ...]) -> None:
    completed = _run(*command, "--help")
    assert completed.returncode == 0, completed.stderr
    for option in OPTIONS:
        assert option in completed.stdout


@COMMANDS
def test_simulator_serves_on_the_port_it_is_given(command: tuple[str, ...]) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port), "--ttft", "0.01", "--itl", "0.001"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = _first_line(process)
        assert base_url == f"http://127.0.0.1:{port}/v1"
        with openai.OpenAI(base_url=base_url, api_key="sk-simulator", max_retries=0) as client:
            completion = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
            )
        assert completion.choices[0].message.content
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_cli_simulator_rejects_a_bad_value_with_its_own_usage() -> None:
    completed = _run(*CLI, "--ttft", "-1")
    assert completed.returncode == 2
    assert "openai-sentinel simulator: error: time_to_first_token" in completed.stderr
