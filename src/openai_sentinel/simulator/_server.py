"""The HTTP layer: routing, JSON and SSE responses over a threading stdlib server."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from ._controls import parse_controls
from ._endpoints import Call, find_endpoint
from ._errors import SimulatedError, format_retry_after, invalid_request
from ._replies import JsonReply, Reply
from ._state import SimulatorState

_logger = logging.getLogger(__name__)

_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_RATE_LIMIT_HEADERS = {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-limit-tokens": "10000000",
    "x-ratelimit-remaining-tokens": "9999000",
    "x-ratelimit-reset-tokens": "6ms",
}


class SimulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its simulator state and its open connections."""

    daemon_threads = True
    request_queue_size = 128
    """Listen backlog: the default of 5 drops bursts of concurrent connections, which the
    client then retries after a one-second SYN timeout."""

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        self.state = state
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        super().__init__(address, SimulatorRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on its own named daemon thread, remembering both."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"openai-sentinel-simulator:{self.server_port}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Close a finished connection."""
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def close_connections(self, timeout: float) -> None:
        """Shut down open connections (idle keep-alive ones too) and join their threads."""
        with self._connections_lock:
            connections = list(self._connections.items())
        for connection, _ in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in connections:
            thread.join(max(0.0, deadline - time.monotonic()))

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup ``HTTPServer`` does (it can be slow)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client that goes away is not an error worth printing."""


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    """Serves the OpenAI-compatible endpoints."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer
    _stream_started = False

    def log_message(self, format: str, *args: Any) -> None:
        """Never print request logs."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        """Answer one request; every failure becomes an OpenAI-shaped error response."""
        request_id = "req_" + secrets.token_hex(16)
        self._stream_started = False
        try:
            self._route(request_id)
        except SimulatedError as error:
            self._send_error(error, request_id)
        except _CONNECTION_ERRORS:
            self.close_connection = True
        except Exception:
            _logger.exception("simulator failed on %s %s", self.command, self.path)
            self.close_connection = True
            if not self._stream_started:
                self._send_error(SimulatedError(500), request_id)

    def _route(self, request_id: str) -> None:
        state = self.server.state
        path, _, query = self.path.partition("?")
        body, body_is_json = _decode_json(self._read_body())
        state.requests.record(self.command, self.path, self.headers.items(), body)
        controls = parse_controls({name.lower(): value for name, value in self.headers.items()})
        failure = state.take_failure(controls)
        if failure is not None:
            raise failure
        found = find_endpoint(self.command, path)
        if found is None:
            raise SimulatedError(404, f"Invalid URL ({self.command} {path})")
        if self.command == "POST" and not body_is_json:
            raise invalid_request(
                "We could not parse the JSON body of your request. (HINT: This likely "
                "means you aren't using your HTTP library correctly.)"
            )
        endpoint, path_parameter = found
        call = Call(body, dict(parse_qsl(query)), controls, state, path_parameter)
        self._send_reply(endpoint(call), request_id)

    def _send_reply(self, reply: Reply, request_id: str) -> None:
        """Send a JSON body after its delay, or an event stream paced by its schedule."""
        if isinstance(reply, JsonReply):
            time.sleep(reply.delay)
            self._send_json(200, reply.payload, request_id)
            return
        schedule = reply.schedule
        self._start_event_stream(request_id)
        for frame in schedule.preamble:
            self._write_chunk(frame)
        time.sleep(reply.first_delay)
        for position, step in enumerate(schedule.steps):
            if position:
                time.sleep(reply.inter_delay)
            for frame in step:
                self._write_chunk(frame)
        for frame in schedule.closing:
            self._write_chunk(frame)
        self._write_chunk(b"")

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            self.close_connection = True
            raise invalid_request("Invalid content-length header.") from None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked_body(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _send_common_headers(self, status: int, content_type: str, request_id: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("x-request-id", request_id)
        self.send_header("openai-version", "2020-10-01")
        for name, value in _RATE_LIMIT_HEADERS.items():
            self.send_header(name, value)

    def _send_json(
        self,
        status: int,
        payload: dict[str, Any],
        request_id: str,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode("utf-8")
        self._send_common_headers(status, "application/json", request_id)
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, error: SimulatedError, request_id: str) -> None:
        headers = {}
        if error.retry_after is not None:
            headers["retry-after"] = format_retry_after(error.retry_after)
        self._send_json(error.status, error.body(), request_id, headers)

    def _start_event_stream(self, request_id: str) -> None:
        self._stream_started = True
        self._send_common_headers(200, "text/event-stream; charset=utf-8", request_id)
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        """One HTTP/1.1 chunk, sent at once (an empty one ends the body)."""
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _decode_json(raw_body: bytes) -> tuple[Any, bool]:
    """The parsed body and whether it was valid JSON (an empty body is not)."""
    if not raw_body.strip():
        return None, False
    try:
        return json.loads(raw_body), True
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, False
