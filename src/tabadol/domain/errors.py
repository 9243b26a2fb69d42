"""The one error tree of tabadol; every adapter renders these and nothing else.

    TabadolError                      500  (never raised on purpose: a bug)
     ├── BadRequest                   400
     │    ├── InvalidJSON             400  body is not strict JSON
     │    ├── InvalidEnvelope         400  body is JSON but not a TAXII envelope
     │    ├── InvalidFilter           400  a query parameter is malformed
     │    └── InvalidInput            400  a CLI / native API argument is malformed
     ├── Unauthorized                 401  no, unknown or revoked token
     ├── Forbidden                    403  known principal, action not allowed on a visible thing
     ├── NotFound                     404  absent, or invisible to the caller (same answer)
     ├── MethodNotAllowed             405
     ├── NotAcceptable                406  Accept header names no TAXII 2.1 media type
     ├── Conflict                     409  a name already taken
     ├── RequestTooLarge              413
     ├── UnsupportedMediaType         415  Content-Type is not TAXII 2.1
     └── KeysUnavailable              503  the node cannot open the org keys it holds

Each error knows its HTTP status and its TAXII error title, so the web layer renders it in
the TAXII error format and the CLI prints its one-line message.
"""

from __future__ import annotations


class TabadolError(Exception):
    """Base of every error tabadol raises on purpose."""

    http_status = 500
    title = "Internal error"

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.title)
        self.description = description or self.title

    def to_taxii(self) -> dict[str, object]:
        """The TAXII 2.1 error resource (section 3.6.1)."""
        return {
            "title": self.title,
            "description": self.description,
            "http_status": str(self.http_status),
        }


class BadRequest(TabadolError):
    http_status = 400
    title = "Bad request"


class InvalidJSON(BadRequest):
    title = "Invalid JSON"


class InvalidEnvelope(BadRequest):
    title = "Invalid TAXII envelope"


class InvalidFilter(BadRequest):
    title = "Invalid filter"


class InvalidInput(BadRequest):
    title = "Invalid input"


class Unauthorized(TabadolError):
    http_status = 401
    title = "Unauthorized"


class Forbidden(TabadolError):
    http_status = 403
    title = "Forbidden"


class NotFound(TabadolError):
    http_status = 404
    title = "Not found"


class MethodNotAllowed(TabadolError):
    http_status = 405
    title = "Method not allowed"


class NotAcceptable(TabadolError):
    http_status = 406
    title = "Not acceptable"


class Conflict(TabadolError):
    http_status = 409
    title = "Conflict"


class RequestTooLarge(TabadolError):
    http_status = 413
    title = "Request too large"


class TooManyRequests(TabadolError):
    """A peer asking faster than its rate allows (a flood is refused, the honest go on)."""

    http_status = 429
    title = "Too many requests"


class UnsupportedMediaType(TabadolError):
    http_status = 415
    title = "Unsupported media type"


class KeysUnavailable(TabadolError):
    """The key secret is missing or wrong: an operator must restore it (nothing is lost)."""

    http_status = 503
    title = "Keys unavailable"
