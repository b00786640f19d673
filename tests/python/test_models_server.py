"""A real HTTP server on 127.0.0.1 that misbehaves on request, for the model-supply tests.

:class:`FaultServer` serves byte strings at paths and, per request, applies the next
queued :class:`Fault` (drop the connection after N bytes, ignore ``Range``, answer an
error status, stall, send wrong bytes). It logs every request so tests can count them.
The fixture ``fault_server`` (in conftest.py) starts one per test.

The few tests at the bottom check the server itself, so a broken fault cannot make the
download tests pass for the wrong reason.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Fault:
    """How to misbehave on one request.

    Attributes
    ----------
    status : int or None
        Answer this status with no body (e.g. 404, 500, 416).
    drop_after : int or None
        Send the headers for the whole answer, then only this many body bytes, then close.
    ignore_range : bool
        Answer 200 with the whole file even when a ``Range`` was asked for.
    delay : float
        Seconds to wait before answering (a stalled server).
    body : bytes or None
        Send these bytes instead of the file (wrong content).
    redirect : str or None
        Answer 302 to this location.
    """

    status: int | None = None
    drop_after: int | None = None
    ignore_range: bool = False
    delay: float = 0.0
    body: bytes | None = None
    redirect: str | None = None


@dataclass
class Logged:
    path: str
    range: str | None
    status: int


@dataclass
class Route:
    data: bytes
    faults: list[Fault] = field(default_factory=list)
    #: Seconds to sleep after each 16 KiB of body (a slow but working link).
    throttle: float = 0.0


class FaultServer:
    """Threaded HTTP server with per-path fault queues.

    Use as a context manager; ``url(path)`` gives the address of a route.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Logged] = []
        self.active = 0
        self.peak_active = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, data: bytes, *faults: Fault, throttle: float = 0.0) -> str:
        """Serve ``data`` at ``path``; ``faults`` apply to the first requests in order."""
        self.routes[path] = Route(data, list(faults), throttle)
        return self.url(path)

    def requests(self, path: str) -> list[Logged]:
        with self._lock:
            return [entry for entry in self.log if entry.path == path]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
        done = [False]

        def finish() -> None:
            # Called before the last bytes go out: once the client has them it may start
            # its next request, which must not look like an overlapping one.
            if not done[0]:
                done[0] = True
                with self._lock:
                    self.active -= 1

        try:
            self._answer(h, finish)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            finish()

    def _answer(self, h: BaseHTTPRequestHandler, finish: Callable[[], None]) -> None:
        route = self.routes.get(h.path)
        asked = h.headers.get("Range")
        if route is None:
            self._record(h.path, asked, 404)
            self._empty(h, 404)
            return
        with self._lock:
            fault = route.faults.pop(0) if route.faults else Fault()
        if fault.delay:
            time.sleep(fault.delay)
        if fault.redirect:
            self._record(h.path, asked, 302)
            h.send_response(302)
            h.send_header("Location", fault.redirect)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if fault.status:
            self._record(h.path, asked, fault.status)
            self._empty(h, fault.status)
            return
        data = fault.body if fault.body is not None else route.data
        start = 0
        match = re.match(r"^bytes=(\d+)-$", asked or "")
        if match and not fault.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                self._record(h.path, asked, 416)
                self._empty(h, 416, {"Content-Range": f"bytes */{len(data)}"})
                return
            status = 206
        else:
            status = 200
        body = data[start:]
        self._record(h.path, asked, status)
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Accept-Ranges", "bytes")
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.end_headers()
        if fault.drop_after is not None:
            h.wfile.write(body[: fault.drop_after])
            h.wfile.flush()
            h.close_connection = True
            # Reset the socket so the client sees the drop at once.
            h.connection.shutdown(2)
            return
        step = 16 * 1024
        for i in range(0, len(body), step):
            if i + step >= len(body):
                finish()
            h.wfile.write(body[i : i + step])
            if route.throttle:
                h.wfile.flush()
                time.sleep(route.throttle)

    def _record(self, path: str, asked: str | None, status: int) -> None:
        with self._lock:
            self.log.append(Logged(path, asked, status))

    @staticmethod
    def _empty(
        h: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", "0")
        h.end_headers()


# -- the server's own checks -------------------------------------------------------------
def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_server_serves_ranges_and_counts_requests() -> None:
    with FaultServer() as srv:
        url = srv.add("/f", b"0123456789")
        assert _get(url) == (200, b"0123456789")
        assert _get(url, {"Range": "bytes=4-"}) == (206, b"456789")
        assert _get(url, {"Range": "bytes=10-"})[0] == 416
        assert [e.status for e in srv.requests("/f")] == [200, 206, 416]


def test_server_faults_apply_in_order() -> None:
    with FaultServer() as srv:
        url = srv.add("/f", b"abcdef", Fault(status=503), Fault(ignore_range=True))
        assert _get(url)[0] == 503
        assert _get(url, {"Range": "bytes=3-"}) == (200, b"abcdef")
        assert _get(url, {"Range": "bytes=3-"}) == (206, b"def")
