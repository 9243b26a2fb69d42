"""Where STIX leaves a server, recorded without changing how it is served: an ASGI middleware
that copies every successful STIX payload (TAXII object pages, the member and peer change
feeds, their Server-Sent Events streams) and every accepted TAXII POST (what the producer
wrote), and the sinks they go to — the session's ledger in this process, a JSON-lines file
per process for servers the tests start as subprocesses.

A subprocess's `sitecustomize` imports this in every Python process the tests start, tabadol's
or not: the standard library only, orjson when it is there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Protocol

try:
    from orjson import loads
except ImportError:  # a process without tabadol's dependencies (the hazm venv)
    from json import loads

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CHANNELS = (
    ("GET", re.compile(r"^/taxii2/root/collections/[^/]+/objects/$"), "TAXII objects"),
    ("GET", re.compile(r"^/taxii2/root/collections/[^/]+/objects/[^/]+/$"), "TAXII object"),
    ("GET", re.compile(r"^/api/v1/changes$"), "member feed"),
    ("GET", re.compile(r"^/api/v1/stream$"), "member stream"),
    ("GET", re.compile(r"^/federation/v1/changes$"), "peer feed"),
    ("GET", re.compile(r"^/federation/v1/stream$"), "peer stream"),
)
_POST_OBJECTS = re.compile(r"^/taxii2/root/collections/[^/]+/objects/$")


class Sink(Protocol):
    def emitted(self, obj: Any, channel: str) -> None: ...

    def posted(self, obj: Any) -> None: ...

    def failed(self, text: str) -> None: ...


def emission_channel(method: str, path: str) -> str | None:
    for wanted, pattern, channel in _CHANNELS:
        if method == wanted and pattern.match(path):
            return channel
    return None


def payload_objects(body: Any) -> list[Any]:
    """The STIX objects of a TAXII envelope or a change-feed page."""
    if not isinstance(body, dict):
        return []
    objects = body.get("objects")
    if isinstance(objects, list):
        return objects
    changes = body.get("changes")
    if isinstance(changes, list):
        return [c["object"] for c in changes if isinstance(c, dict) and "object" in c]
    return []


class _Response:
    """The status and body of one response, events handed on as they complete (a stream
    may be cut before its end)."""

    def __init__(self, sink: Sink, channel: str | None) -> None:
        self.sink, self.channel = sink, channel
        self.status = 0
        self.events = False
        self.body = bytearray()

    def start(self, message: Message) -> None:
        self.status = int(message["status"])
        for name, value in message.get("headers", []):
            if name.lower() == b"content-type":
                self.events = value.startswith(b"text/event-stream")

    def feed(self, chunk: bytes, more: bool) -> None:
        if self.channel is None or self.status != 200:
            return
        self.body += chunk
        if self.events:
            *complete, rest = bytes(self.body).split(b"\n\n")
            self.body = bytearray(rest)
            for event in complete:
                for line in event.split(b"\n"):
                    if line.startswith(b"data:"):
                        self._objects(line[5:])
        elif not more:
            self._objects(bytes(self.body))

    def _objects(self, data: bytes) -> None:
        assert self.channel is not None
        for obj in payload_objects(loads(data)):
            self.sink.emitted(obj, self.channel)


class RecordingMiddleware:
    """Passes every message through unchanged; copies what the sink needs on the side."""

    def __init__(self, app: ASGIApp, sink: Sink) -> None:
        self.app, self.sink = app, sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        channel = emission_channel(method, path)
        posting = method == "POST" and _POST_OBJECTS.match(path) is not None
        if channel is None and not posting:
            await self.app(scope, receive, send)
            return
        request = bytearray()
        response = _Response(self.sink, channel)

        async def tee_receive() -> Message:
            message = await receive()
            if posting and message["type"] == "http.request":
                request.extend(message.get("body", b""))
            return message

        async def tee_send(message: Message) -> None:
            try:
                if message["type"] == "http.response.start":
                    response.start(message)
                elif message["type"] == "http.response.body":
                    response.feed(message.get("body", b""), message.get("more_body", False))
            except Exception as exc:  # a copy that fails must not change what is served
                self.sink.failed(f"{path}: {type(exc).__name__}: {exc}")
            await send(message)

        await self.app(scope, tee_receive, tee_send)
        if posting and response.status == 202:
            try:
                for obj in payload_objects(loads(bytes(request))):
                    self.sink.posted(obj)
            except Exception as exc:
                self.sink.failed(f"{path}: {type(exc).__name__}: {exc}")


class FileSink:
    """A subprocess's records, one JSON line each, in the session's directory; each distinct
    object written once per process."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"record-{os.getpid()}.jsonl"
        self.source = os.environ.get("TABADOL_STIX_SOURCE", "") + " (subprocess)"
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def _write(self, kind: str, obj: Any, channel: str) -> None:
        line = json.dumps({"kind": kind, "channel": channel, "source": self.source, "object": obj})
        digest = hashlib.sha256(line.encode()).hexdigest()
        with self._lock:
            if digest in self._seen:
                return
            self._seen.add(digest)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def emitted(self, obj: Any, channel: str) -> None:
        self._write("emitted", obj, channel)

    def posted(self, obj: Any) -> None:
        self._write("posted", obj, "")

    def failed(self, text: str) -> None:
        self._write("failure", text, "")
