"""The storage's own errors, raised by each engine in place of its driver's."""

from __future__ import annotations

from tabadol.domain.errors import TabadolError


class IntegrityViolation(TabadolError):
    """A write broke a uniqueness or reference rule of the schema. The shared SQL turns the
    ones it expects (a name, token or key taken) into a `Conflict`; one it does not expect is
    a bug, so it stays a 500 whose response carries the generic title, not the driver's text
    (kept in `detail` and in `str()` for the logs)."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}"


class StorageUnavailable(TabadolError):
    """The database cannot be used as the node needs it (e.g. SQLite refuses WAL mode on
    this file system): the operator must act, so it is a 503 with the reason."""

    http_status = 503
    title = "Storage unavailable"
