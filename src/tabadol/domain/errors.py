"""The one error tree of tabadol; every adapter renders these and nothing else.

    TabadolError                      500  (never raised on purpose: a bug)
     ├── IntegrityViolation           500  a write broke a schema rule (storage.errors)
     ├── BadRequest                   400
     │    ├── InvalidJSON             400  body is not strict JSON
     │    ├── InvalidEnvelope         400  body is JSON but not a TAXII envelope
     │    ├── InvalidFilter           400  a query parameter is malformed
     │    ├── InvalidInput            400  a CLI / native API argument is malformed
     │    │    └── UnknownTLP         400  no TLP level of that name            (ValueError)
     │    ├── InvalidObject           400  one object is not valid STIX 2.1     (ValueError)
     │    ├── TimestampError          400  a value is not a STIX timestamp      (ValueError)
     │    ├── CanonicalizationError   400  no RFC 8785 form for the value        (ValueError)
     │    ├── MalformedAuditEntry     400  a kept audit entry is not its format  (ValueError)
     │    ├── NoSuchProof             400  a Merkle proof of sizes the tree lacks (ValueError)
     │    └── Refused                 400  an object breaks a rule of the exchange
     ├── Unauthorized                 401  no, unknown or revoked token
     ├── Forbidden                    403  known principal, action not allowed on a visible thing
     ├── NotFound                     404  absent, or invisible to the caller (same answer)
     ├── MethodNotAllowed             405
     ├── NotAcceptable                406  Accept header names no TAXII 2.1 media type
     ├── Conflict                     409  a name already taken
     │    └── PeerPaused              409  the peer was paused while its page came in
     ├── RequestTooLarge              413
     ├── UnsupportedMediaType         415  Content-Type is not TAXII 2.1
     ├── Untrusted                    422  a cryptographic check failed
     │    ├── SignatureError          422  a signature does not verify or is malformed (ValueError)
     │    ├── InvalidPublicKey        422  wrong length, not on the curve, small order (ValueError)
     │    ├── InvalidEncryptionKey    422  an X25519 key that must not be sealed to  (ValueError)
     │    ├── SealingError            422  cannot seal or open (no recipient, tampered) (ValueError)
     │    └── KeyChanged              422  a node serves another key than the client pinned
     ├── TooManyRequests              429  a peer too fast; sign-in attempts locked out
     ├── PeerFailure                  502  a peer node failed this node's request
     │    ├── PeerError               502  it answered with an error, or not in its protocol
     │    │    └── PeerUnreachable    502  no answer at all (connection, timeout)
     │    └── DirectoryError          502  its directory cannot be taken in      (ValueError)
     ├── KeysUnavailable              503  the node cannot open the org keys it holds
     │    └── UnwrapError             503  the secret at hand does not open a key (ValueError)
     └── StorageUnavailable           503  the database cannot be used as needed (storage.errors)

Each error knows its HTTP status and its TAXII error title, so the web layer renders it in
the TAXII error format and the CLI prints its one-line message. The errors marked ValueError
are also ValueErrors: the parsers that raise them read like Python's own (`int("x")`), and
callers catch them with the ValueErrors of the standard library and of orjson.
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

    def __init__(self, description: str = "", allowed: list[str] | None = None) -> None:
        super().__init__(description)
        self.allowed = allowed or []  # the methods the resource has (the `Allow` header)


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
    """A peer asking faster than its rate allows (a flood is refused, the honest go on), or
    sign-in attempts locked out for a while: `retry_after` seconds (HTTP `Retry-After`)."""

    http_status = 429
    title = "Too many requests"

    def __init__(self, description: str = "", retry_after: int | None = None) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class UnsupportedMediaType(TabadolError):
    http_status = 415
    title = "Unsupported media type"


class KeysUnavailable(TabadolError):
    """The key secret is missing or wrong: an operator must restore it (nothing is lost)."""

    http_status = 503
    title = "Keys unavailable"


class UnknownTLP(InvalidInput, ValueError):
    title = "Unknown TLP level"


class InvalidObject(BadRequest, ValueError):
    """One object of an envelope is not valid STIX 2.1; the others go on."""

    title = "Invalid STIX object"


class TimestampError(BadRequest, ValueError):
    """A value is not a STIX timestamp."""

    title = "Invalid timestamp"


class CanonicalizationError(BadRequest, ValueError):
    """A value with no RFC 8785 (JCS) canonical form, so it cannot be signed."""

    title = "No canonical form"


class MalformedAuditEntry(BadRequest, ValueError):
    """A kept audit entry that is not a JSON object (the log check reports it)."""

    title = "Malformed audit entry"


class NoSuchProof(BadRequest, ValueError):
    """A Merkle proof asked for a leaf or a size the tree does not have."""

    title = "No such proof"


class Refused(BadRequest):
    """An object breaks a rule of the exchange (not of STIX); the others of its envelope go
    on, and the status resource counts it."""

    title = "Refused"


class PeerPaused(Conflict):
    """The operator paused or removed the peer while a page was on its way: not applied."""

    title = "Peer paused"


class Untrusted(TabadolError):
    """A cryptographic check failed: the request is well formed, its content is not trusted."""

    http_status = 422
    title = "Untrusted"


class SignatureError(Untrusted, ValueError):
    """A signature that does not verify, or is malformed."""

    title = "Invalid signature"


class InvalidPublicKey(Untrusted, ValueError):
    """A public key that must not be used: wrong length, not on the curve, or small order."""

    title = "Invalid public key"


class InvalidEncryptionKey(Untrusted, ValueError):
    """An X25519 public key that must not be sealed to (wrong length or low order)."""

    title = "Invalid encryption key"


class SealingError(Untrusted, ValueError):
    """Content cannot be sealed or opened (no recipients, not a recipient, tampered)."""

    title = "Sealing failed"


class KeyChanged(Untrusted):
    """A key the client pinned on first use is served changed, or gone, unannounced."""

    title = "Key changed"


class PeerFailure(TabadolError):
    """A peer node failed a request of this node (the sync loop backs off and retries)."""

    http_status = 502
    title = "Peer failure"


class PeerError(PeerFailure):
    """The peer answered with an error, or with something that is not its protocol."""


class PeerUnreachable(PeerError):
    """The peer did not answer: no connection, a timeout, a stream cut."""

    title = "Peer unreachable"


class DirectoryError(PeerFailure, ValueError):
    """A peer's directory that cannot be taken in."""

    title = "Invalid peer directory"


class UnwrapError(KeysUnavailable, ValueError):
    """A wrapped key that the secret at hand does not open (wrong secret, or tampered)."""

    title = "Cannot unwrap key"
