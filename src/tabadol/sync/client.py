"""HTTP to a peer node: every request signed with this node's key, the change stream read as
Server-Sent Events. Whatever goes wrong comes out as a `PeerError` (`PeerUnreachable` when
the peer did not answer): httpx's errors stop at this edge."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
from nacl.signing import SigningKey

from tabadol.crypto import peer_request
from tabadol.domain.errors import PeerError, PeerUnreachable

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 45.0  # longer than the stream's keepalive (15 s)
MAX_EVENT_BYTES = 64 * 1024 * 1024  # one page of 1,000 objects; larger pages are refused
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class PeerClient:
    """One peer's endpoints, as this node (whose key signs every request) calls them."""

    def __init__(
        self,
        base_url: str,
        node_key: SigningKey,
        clock: Callable[[], int],
        peer_node_id: str,
        http: httpx.Client | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._to = peer_node_id
        self._prefix = urlsplit(self._base).path
        self._key = node_key
        self._clock = clock
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        )
        self._streaming: httpx.Response | None = None

    def close(self) -> None:
        self._http.close()

    def abort(self) -> None:
        """From another thread: cut the open stream now (a blocked read returns at once)."""
        response = self._streaming
        stream = response.extensions.get("network_stream") if response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _signed(self, path: str, params: dict[str, int | str]) -> tuple[str, dict[str, str]]:
        query = urlencode(params)
        target = f"{self._prefix}{path}" + (f"?{query}" if query else "")
        auth = peer_request.authorization(self._key, "GET", target, b"", self._clock(), self._to)
        return f"{self._base}{path}" + (f"?{query}" if query else ""), {"Authorization": auth}

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """Turn httpx's transport errors into PeerUnreachable, naming the peer's URL."""
        try:
            yield
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"{self._base}: {exc}") from exc

    def _get(self, path: str, params: dict[str, int | str] | None = None) -> dict[str, Any]:
        url, headers = self._signed(path, params or {})
        with self._answering(), self._http.stream("GET", url, headers=headers) as response:
            content = _read_at_most(response, MAX_RESPONSE_BYTES, path)
        if response.status_code != 200:
            raise PeerError(f"{path}: HTTP {response.status_code} {_reason(content)}")
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            raise PeerError(f"{path}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise PeerError(f"{path}: the answer is not a JSON object")
        return body

    def directory(self) -> dict[str, Any]:
        return self._get("/federation/v1/directory")

    def changes(self, after: int, limit: int = 1000, channel: str | None = None) -> dict[str, Any]:
        params: dict[str, int | str] = {"after": after, "limit": limit}
        if channel is not None:
            params["channel"] = channel
        return self._get("/federation/v1/changes", params)

    def stream(self, after: int) -> Iterator[dict[str, Any]]:
        """The pages of the change stream from `after`, as they come, until it ends."""
        url, headers = self._signed("/federation/v1/stream", {"after": after})
        headers["Accept"] = "text/event-stream"
        with self._answering(), self._http.stream("GET", url, headers=headers) as response:
            self._streaming = response
            if response.status_code != 200:
                content = _read_at_most(response, 64 * 1024, "stream")
                raise PeerError(f"stream: HTTP {response.status_code} {_reason(content)}")
            data: list[bytes] = []
            for line in _lines(response):
                if line.startswith(b"data:"):
                    data.append(line[5:].lstrip())
                elif not line and data:
                    try:
                        page = orjson.loads(b"\n".join(data))
                    except orjson.JSONDecodeError:
                        raise PeerError("stream: an event is not JSON") from None
                    data = []
                    if not isinstance(page, dict):
                        raise PeerError("stream: an event is not a JSON object")
                    yield page


def _read_at_most(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body, or PeerError past `limit` bytes (a peer must not exhaust this node's memory)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise PeerError(f"{what}: the answer is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _lines(response: httpx.Response) -> Iterator[bytes]:
    """The lines of an event stream, none (and no event) longer than MAX_EVENT_BYTES."""
    buffer = b""
    event_size = 0
    for chunk in response.iter_bytes():
        buffer += chunk
        if len(buffer) > MAX_EVENT_BYTES:
            raise PeerError("stream: a line longer than any page")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            event_size = 0 if not line else event_size + len(line)
            if event_size > MAX_EVENT_BYTES:
                raise PeerError("stream: an event larger than any page")
            yield line


def _reason(content: bytes) -> str:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return ""
    return str(body.get("title", "")) if isinstance(body, dict) else ""
