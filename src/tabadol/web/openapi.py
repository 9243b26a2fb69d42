"""The OpenAPI document, made to tell the truth about the server (issue 14, finding 7).

FastAPI describes what its type hints show: a 422 the server never sends (validation errors
are 400 here), `application/json` where TAXII speaks `application/taxii+json;version=2.1`,
no TAXII query parameters (the handlers read them from the query string), no security on
routes that authenticate inside their handler, and none of the errors the use cases raise.
This module takes FastAPI's document and corrects it from the tables below; schemathesis,
run against a real server in the test suite, holds the result to what the server answers.
"""

from __future__ import annotations

from typing import Any

from tabadol.web.media import TAXII_21

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "The TAXII 2.1 error resource (section 3.6.1), on every API of the node.",
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "http_status": {"type": "string"},
    },
    "required": ["title", "description", "http_status"],
}
REASONS = {
    400: "Malformed request (parameters, body, Content-Length)",
    401: "No, unknown or revoked credentials",
    403: "Known caller, action not allowed on a thing it may see",
    404: "Absent, or not the caller's to see (the same answer)",
    406: "The Accept header names no TAXII 2.1 media type",
    409: "A name, an identity or an address already taken; a change the state refuses",
    413: "The body is larger than the route accepts",
    415: "The body is not a TAXII 2.1 envelope",
    422: "A cryptographic check failed",
    429: "Too many open streams or requests from this caller",
    503: "The database or the node's keys are unavailable",
}
# Every route: a malformed Content-Length (400), a body over its limit (413), the database
# unavailable (503).
ANY = (400, 413, 503)
TAXII = (*ANY, 401, 406)
NATIVE = (*ANY, 401)
PEER = (*ANY, 401, 403, 429)

# (method, path) -> the statuses the route answers besides its success
STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("get", "/taxii2/"): TAXII,
    ("get", "/taxii2/root/"): TAXII,
    ("get", "/taxii2/root/status/{status_id}/"): (*TAXII, 404),
    ("get", "/taxii2/root/collections/"): TAXII,
    ("get", "/taxii2/root/collections/{collection_id}/"): (*TAXII, 404),
    ("get", "/taxii2/root/collections/{collection_id}/manifest/"): (*TAXII, 404),
    ("get", "/taxii2/root/collections/{collection_id}/objects/"): (*TAXII, 404),
    ("post", "/taxii2/root/collections/{collection_id}/objects/"): (*TAXII, 403, 404, 415),
    ("get", "/taxii2/root/collections/{collection_id}/objects/{object_id}/"): (*TAXII, 404),
    ("delete", "/taxii2/root/collections/{collection_id}/objects/{object_id}/"): (
        *TAXII, 403, 404,
    ),
    ("get", "/taxii2/root/collections/{collection_id}/objects/{object_id}/versions/"): (
        *TAXII, 404,
    ),
    ("get", "/api/v1/whoami"): NATIVE,
    ("get", "/api/v1/orgs"): (*NATIVE, 403),
    ("post", "/api/v1/orgs"): (*NATIVE, 403, 409),
    ("get", "/api/v1/orgs/{org}/tokens"): (*NATIVE, 403, 404),
    ("get", "/api/v1/orgs/{org}/break-glass"): (*NATIVE, 404),
    ("post", "/api/v1/orgs/{org}/break-glass/{entry}/acknowledge"): (*NATIVE, 403, 404),
    ("post", "/api/v1/orgs/{org}/tokens"): (*NATIVE, 403, 404),
    ("delete", "/api/v1/tokens/{token_id}"): (*NATIVE, 404, 409),
    ("get", "/api/v1/orgs/{org}/people"): (*NATIVE, 404),
    ("post", "/api/v1/orgs/{org}/people"): (*NATIVE, 403, 404, 409),
    ("get", "/api/v1/orgs/{org}/people/{email}"): (*NATIVE, 404),
    ("patch", "/api/v1/orgs/{org}/people/{email}"): (*NATIVE, 403, 404, 409),
    ("delete", "/api/v1/orgs/{org}/people/{email}"): (*NATIVE, 403, 404, 409),
    ("post", "/api/v1/orgs/{org}/people/{email}/reset"): (*NATIVE, 403, 404, 409),
    ("get", "/api/v1/orgs/{org}/people/{email}/sessions"): (*NATIVE, 404),
    ("delete", "/api/v1/orgs/{org}/people/{email}/sessions/{session_id}"): (*NATIVE, 403, 404),
    ("get", "/api/v1/me"): NATIVE,
    ("get", "/api/v1/me/tokens"): (*NATIVE, 403),
    ("post", "/api/v1/me/tokens"): (*NATIVE, 403),
    ("delete", "/api/v1/me/tokens/{token_id}"): (*NATIVE, 403, 404, 409),
    ("get", "/api/v1/groups"): NATIVE,
    ("post", "/api/v1/groups"): (*NATIVE, 403, 404, 409),
    ("post", "/api/v1/groups/{group}/members"): (*NATIVE, 403, 404, 409),
    ("delete", "/api/v1/groups/{group}/members/{org}"): (*NATIVE, 403, 404, 409),
    ("get", "/api/v1/keys"): (*NATIVE, 403),
    ("post", "/api/v1/orgs/{org}/keys"): (*NATIVE, 403, 404, 409),
    ("post", "/api/v1/keys/{key_id}/revoke"): (*NATIVE, 403, 404, 409),
    ("get", "/api/v1/collections/{collection_id}/recipients"): (*NATIVE, 403, 404),
    ("get", "/api/v1/audit/head"): (*NATIVE, 403, 404),
    ("get", "/api/v1/schemas/{name}.json"): (*ANY, 404),
    ("get", "/api/v1/search"): NATIVE,
    ("get", "/api/v1/correlations/{object_id}"): (*NATIVE, 404),
    ("post", "/api/v1/collections/{collection_id}/objects/{object_id}/indicators"): (
        *NATIVE, 403, 404,
    ),
    ("post", "/api/v1/reports"): (*NATIVE, 403),
    ("get", "/api/v1/changes"): NATIVE,
    ("get", "/api/v1/stream"): (*NATIVE, 429),
    ("get", "/federation/v1/node"): ANY,
    ("get", "/federation/v1/directory"): PEER,
    ("get", "/federation/v1/changes"): PEER,
    ("get", "/federation/v1/stream"): PEER,
}  # fmt: skip
PUBLIC = {"/api/v1/schemas/{name}.json", "/federation/v1/node"}
PEER_SIGNED = {"/federation/v1/directory", "/federation/v1/changes", "/federation/v1/stream"}
STREAMS = {"/api/v1/stream", "/federation/v1/stream"}
_PAGE_PARAMETERS = (
    ("added_after", "Only what was added after this RFC 3339 time.", {"type": "string"}),
    ("limit", "Objects per page (lowered to page_size_max).", {"type": "integer", "minimum": 1}),
    ("next", "The `next` of the previous page.", {"type": "string"}),
    ("match[id]", "STIX ids, comma-separated.", {"type": "string"}),
    ("match[type]", "STIX types, comma-separated.", {"type": "string"}),
    ("match[version]", "first, last, all or timestamps, comma-separated.", {"type": "string"}),
    ("match[spec_version]", "STIX spec versions, comma-separated.", {"type": "string"}),
)
_NO_FILTER = {"match[id]", "match[type]"}  # not on the endpoints of one object
_NO_VERSION = {"match[version]"}  # not on the versions endpoint


def _page_parameters(path: str) -> list[dict[str, Any]]:
    skip: set[str] = set()
    if "{object_id}" in path:
        skip |= _NO_FILTER
    if path.endswith("/versions/"):
        skip |= _NO_VERSION
    return [
        {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
        for name, text, schema in _PAGE_PARAMETERS
        if name not in skip
    ]


def _error_responses(path: str, statuses: tuple[int, ...]) -> dict[str, Any]:
    media = TAXII_21 if path.startswith("/taxii2") else "application/json"
    return {
        str(status): {"description": REASONS[status], "content": {media: {"schema": ERROR}}}
        for status in sorted(set(statuses))
    }


def _taxii_success(operation: dict[str, Any], path: str, method: str) -> None:
    """TAXII answers in its media type; DELETE answers 200 without a body."""
    for code, response in operation["responses"].items():
        if not code.startswith("2"):
            continue
        if method == "delete":
            response.pop("content", None)
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        response["content"] = {TAXII_21: {"schema": schema or {"type": "object"}}}
    if method == "post":
        operation["requestBody"] = {
            "required": True,
            "content": {TAXII_21: {"schema": {"$ref": "#/components/schemas/Envelope"}}},
        }
    if any(part in path for part in ("/objects/", "/manifest/")) and method == "get":
        operation.setdefault("parameters", []).extend(_page_parameters(path))


SSE_EVENT = {
    "type": "object",
    "description": "One Server-Sent Event: `id` is the cursor, `data` a page of changes (JSON).",
    "properties": {
        "id": {"type": "string"},
        "event": {"type": "string", "enum": ["changes"]},
        "data": {"type": "string"},
    },
}
ENVELOPE_SCHEMA = {
    "type": "object",
    "description": "A TAXII 2.1 envelope (section 3.7) of STIX 2.1 objects.",
    # each item is admitted or refused on its own, its reason in the status (202)
    "properties": {"objects": {"type": "array", "items": {}}},
    "required": ["objects"],
}


def truthful(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's `document`, corrected: errors, media types, parameters and security as the
    server has them."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(
        {"Error": ERROR_SCHEMA, "Envelope": ENVELOPE_SCHEMA}
    )
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    schemes = components.setdefault("securitySchemes", {})
    schemes["PeerSignature"] = {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Tabadol-Node key=…, ts=…, nonce=…, sig=…`: a request signed by a"
        " registered peer node's key.",
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.update(_error_responses(path, STATUSES[(method, path)]))
            if path.startswith("/taxii2"):
                _taxii_success(operation, path, method)
                operation["security"] = [{"HTTPBearer": []}]
            elif path in PUBLIC:
                operation["security"] = []
            elif path in PEER_SIGNED:
                operation["security"] = [{"PeerSignature": []}]
            if path in STREAMS:
                responses["200"]["content"] = {"text/event-stream": {"schema": SSE_EVENT}}
    return document
