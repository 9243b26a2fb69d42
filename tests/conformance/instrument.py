"""Hooks on tabadol's own functions, for tests only: every app `create_app` makes is wrapped in
the recording middleware, `export_objects` hands each exported object to the sink, and what
producers hand to the node outside HTTP (`tabadol import`, the client CLI's `publish`, a test
publishing through the use case) is recorded as posted.

The production code is not changed: the wrapped functions are put in place of the originals
in their modules, and in every module that imported them by name before, at install time or
when a module is first imported (a subprocess installs from `sitecustomize`, before tabadol is
loaded). Standard library only, like `recording`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from .recording import RecordingMiddleware, Sink

Patch = Callable[[Any, Sink], Any]


def _create_app(original: Any, sink: Sink) -> Any:
    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.add_middleware(RecordingMiddleware, sink=sink)
        return app

    return create_app


def _export_objects(original: Any, sink: Sink) -> Any:
    def export_objects(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        chunks = original(*args, **kwargs)  # refusals (unknown org …) raise here, as before

        def tee() -> Iterator[bytes]:
            for chunk in chunks:
                try:
                    sink.emitted(json.loads(chunk), "export")
                except Exception as exc:
                    sink.failed(f"export: {type(exc).__name__}: {exc}")
                yield chunk

        return tee()

    return export_objects


def _recording_posted(position: int) -> Patch:
    """A wrapper that records the objects argument (`position`) of a producer's call."""

    def patch(original: Any, sink: Sink) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            objects = kwargs.get("objects", args[position] if len(args) > position else None)
            for obj in objects if isinstance(objects, list) else []:
                sink.posted(obj)
            return original(*args, **kwargs)

        return wrapper

    return patch


def _publish_objects(original: Any, sink: Sink) -> Any:
    """Only a test calling the use case is a producer: derive and the directory record call it
    with what the node made, which has no producer form."""

    def publish_objects(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("tests."):
            objects = kwargs.get("objects", args[3] if len(args) > 3 else None)
            for obj in objects if isinstance(objects, list) else []:
                sink.posted(obj)
        return original(*args, **kwargs)

    return publish_objects


PATCHES: dict[str, list[tuple[str, Patch]]] = {
    "tabadol.web.app": [("create_app", _create_app)],
    "tabadol.usecases.reading.export": [("export_objects", _export_objects)],
    "tabadol.usecases.publishing.bundle_import": [("import_objects", _recording_posted(3))],
    "tabadol.client.remote": [("publish", _recording_posted(3))],
    "tabadol.usecases.publishing.publish": [("publish_objects", _publish_objects)],
}


def _apply(module: ModuleType, sink: Sink) -> None:
    for name, patch in PATCHES[module.__name__]:
        original = getattr(module, name)
        if getattr(original, "__wrapped_for_conformance__", False):
            continue
        wrapped = patch(original, sink)
        wrapped.__wrapped_for_conformance__ = True
        wrapped.__wrapped__ = original
        setattr(module, name, wrapped)
        for other in list(sys.modules.values()):  # names imported before the patch
            if other is not None and getattr(other, name, None) is original:
                setattr(other, name, wrapped)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Applies the patches of a module as soon as it has been executed."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        loader, sink = spec.loader, self.sink

        class Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: ModuleType) -> None:
                loader.exec_module(module)
                _apply(module, sink)

        spec.loader = Loader()
        return spec


def install(sink: Sink) -> None:
    """Patch what is loaded now and what will be."""
    for name in PATCHES:
        if name in sys.modules:
            _apply(sys.modules[name], sink)
    sys.meta_path.insert(0, _PatchOnImport(sink))
