"""HTTP downloads that resume, retry, time out and can be cancelled (stdlib only).

:func:`download` appends to a partial file with an HTTP ``Range`` request; a server that
answers ``200`` instead of ``206`` (it ignores ``Range``) makes it start the file over,
and ``416`` (range not satisfiable) drops the partial file and starts over. Connection
errors, time-outs and ``5xx``/``408``/``429`` answers are retried with exponential
backoff; other ``4xx`` answers fail at once. Only ``https`` is accepted unless the caller
explicitly allows plain ``http`` (local servers), and redirects obey the same rule.
"""

from __future__ import annotations

import errno
import http.client
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vocalmidi import __version__
from vocalmidi.errors import DownloadError

CHUNK = 64 * 1024
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class DownloadCancelled(DownloadError):
    """The caller's cancel event was set; partial data is kept for a later resume."""

    exit_code = 130


class CacheWriteError(DownloadError):
    """Writing into the cache failed (read-only folder, full disk, permissions)."""


@dataclass(frozen=True)
class HttpOptions:
    """How patient a download is.

    Attributes
    ----------
    timeout : float
        Seconds a connect or a single read may take.
    retries : int
        Further attempts after the first one fails with a retryable error.
    backoff : float
        Seconds before the first retry; doubled for each further one.
    max_backoff : float
        Upper bound of one wait.
    allow_http : bool
        Accept plain ``http://`` (otherwise only ``https://``).
    """

    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    allow_http: bool = False


def cache_write_error(where: Path, exc: OSError) -> CacheWriteError:
    """Turn an OSError from writing into the cache into a one-line error with a hint."""
    hint = {
        errno.ENOSPC: "free some space or set VOCALMIDI_CACHE to another disk",
        errno.EROFS: "set VOCALMIDI_CACHE to a writable folder",
        errno.EACCES: "set VOCALMIDI_CACHE to a writable folder",
        errno.EPERM: "set VOCALMIDI_CACHE to a writable folder",
    }.get(exc.errno or 0, "check the cache folder")
    return CacheWriteError(
        f"cannot write to the model cache at {where}: {exc.strerror or exc}; {hint}"
    )


def check_url(url: str, allow_http: bool) -> None:
    """Raise :class:`DownloadError` unless ``url`` is https (or http when allowed)."""
    if url.startswith("https://"):
        return
    if url.startswith("http://"):
        if allow_http:
            return
        raise DownloadError(
            f"refusing plain http for {url}: use https, or --allow-http for a local server"
        )
    raise DownloadError(f"refusing URL {url!r}: only https downloads are allowed")


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_http: bool) -> None:
        self.allow_http = allow_http

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        check_url(newurl, self.allow_http)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(allow_http: bool) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_SafeRedirects(allow_http))


def _request(url: str, offset: int) -> urllib.request.Request:
    headers = {"User-Agent": f"vocalmidi/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.Request(url, headers=headers)


class _Retryable(Exception):
    """An attempt failed in a way another attempt may fix."""


def download(
    url: str,
    part: Path,
    *,
    expected_size: int | None = None,
    options: HttpOptions | None = None,
    cancel: threading.Event | None = None,
    on_bytes: Callable[[int, int | None], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """Download ``url`` into ``part``, resuming from the bytes already there.

    Parameters
    ----------
    url : str
        Source URL.
    part : Path
        Partial file; created if missing, appended to when the server honours ``Range``.
    expected_size : int or None
        Size from the manifest: a partial file of this size is taken as complete, a larger
        one is discarded.
    options : HttpOptions or None
        Time-outs, retries, http policy.
    cancel : threading.Event or None
        When set, the download stops at the next chunk and raises :class:`DownloadCancelled`.
    on_bytes : callable or None
        Called as ``on_bytes(done, total)`` as data arrives.
    sleep : callable or None
        Waits between retries (defaults to a wait that the cancel event interrupts).

    Returns
    -------
    int
        Number of HTTP requests made (for tests and diagnostics).

    Raises
    ------
    DownloadError
        When all attempts fail or the server refuses; the message says why.
    CacheWriteError
        When the partial file cannot be written.
    DownloadCancelled
        When ``cancel`` was set.
    """
    opts = options or HttpOptions()
    check_url(url, opts.allow_http)
    cancel = cancel or threading.Event()
    opener = _opener(opts.allow_http)
    failures = 0
    requests = 0
    last_error = ""
    while True:
        if cancel.is_set():
            raise DownloadCancelled(f"download of {url} cancelled")
        offset = _size(part)
        if expected_size is not None and offset > expected_size:
            _truncate(part)
            offset = 0
        if expected_size is not None and offset == expected_size:
            return requests
        requests += 1
        before = offset
        try:
            _attempt(opener, url, part, offset, expected_size, opts, cancel, on_bytes)
            return requests
        except _Retryable as exc:
            last_error = str(exc)
        if _size(part) > before:
            failures = 0  # progress was made: a flaky link should not exhaust the retries
        else:
            failures += 1
        if failures > opts.retries:
            raise DownloadError(f"could not download {url} after {requests} attempts: {last_error}")
        delay = min(opts.max_backoff, opts.backoff * (2 ** max(0, failures - 1)))
        if sleep is not None:
            sleep(delay)
        elif cancel.wait(delay):
            raise DownloadCancelled(f"download of {url} cancelled")


def _attempt(
    opener: urllib.request.OpenerDirector,
    url: str,
    part: Path,
    offset: int,
    expected_size: int | None,
    opts: HttpOptions,
    cancel: threading.Event,
    on_bytes: Callable[[int, int | None], None] | None,
) -> None:
    try:
        response = opener.open(_request(url, offset), timeout=opts.timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # The partial file does not fit the server's file: start over.
            _truncate(part)
            raise _Retryable(f"HTTP 416 for a resume at byte {offset}; restarting") from None
        if exc.code in _RETRY_STATUS:
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, DownloadError):  # a refused redirect
            raise reason from None
        raise _Retryable(f"cannot connect: {reason}") from None
    except TimeoutError as exc:
        raise _Retryable(f"timed out after {opts.timeout:g} s ({exc})") from None
    except (ConnectionError, http.client.HTTPException, OSError) as exc:
        raise _Retryable(f"connection failed: {exc}") from None
    with response:
        status = response.status
        append = False
        if status == 206 and offset:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                _truncate(part)
                raise _Retryable("server sent a range that does not continue the file")
            append = True
        elif status != 200:
            raise DownloadError(f"{url}: unexpected HTTP {status}")
        length = response.headers.get("Content-Length")
        start = offset if append else 0
        total = start + int(length) if length and length.isdigit() else expected_size
        if expected_size is not None and total is not None and total != expected_size:
            raise DownloadError(
                f"{url} is {total} bytes but the manifest says {expected_size}: wrong file"
            )
        _stream(response, part, append, start, total, opts, cancel, on_bytes)


def _stream(
    response: http.client.HTTPResponse,
    part: Path,
    append: bool,
    done: int,
    total: int | None,
    opts: HttpOptions,
    cancel: threading.Event,
    on_bytes: Callable[[int, int | None], None] | None,
) -> None:
    try:
        handle = open(part, "ab" if append else "wb")
    except OSError as exc:
        raise cache_write_error(part.parent, exc) from None
    with handle:
        if on_bytes:
            on_bytes(done, total)
        while True:
            if cancel.is_set():
                raise DownloadCancelled(f"download of {response.url} cancelled at byte {done}")
            try:
                chunk = response.read(CHUNK)
            except TimeoutError:
                raise _Retryable(
                    f"read timed out after {opts.timeout:g} s at byte {done}"
                ) from None
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                raise _Retryable(f"connection lost at byte {done}: {exc!r}") from None
            if not chunk:
                break
            try:
                handle.write(chunk)
                handle.flush()
            except OSError as exc:
                handle.close()
                _truncate(part)
                raise cache_write_error(part.parent, exc) from None
            done += len(chunk)
            if on_bytes:
                on_bytes(done, total)
    if total is not None and done < total:
        raise _Retryable(f"connection closed at byte {done} of {total}")


def fetch_bytes(
    url: str, *, allow_http: bool = False, timeout: float = 30.0, max_bytes: int = 16 << 20
) -> bytes:
    """Fetch a small document (a manifest) into memory, with the same URL policy.

    Raises
    ------
    DownloadError
        On any failure, or when the body exceeds ``max_bytes``.
    """
    check_url(url, allow_http)
    try:
        with _opener(allow_http).open(_request(url, 0), timeout=timeout) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, DownloadError):
            raise exc.reason from None
        raise DownloadError(f"cannot fetch {url}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"cannot fetch {url}: {exc}") from None
    if len(data) > max_bytes:
        raise DownloadError(f"{url} is larger than {max_bytes} bytes")
    return data


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _truncate(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise cache_write_error(path.parent, exc) from None
