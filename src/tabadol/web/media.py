"""TAXII 2.1 media types (section 1.6.8) and content negotiation."""

from __future__ import annotations

from tabadol.domain.errors import NotAcceptable, UnsupportedMediaType

TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"


def _parse(header: str) -> list[tuple[str, dict[str, str]]]:
    entries = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        params = {}
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        entries.append((pieces[0].lower(), params))
    return entries


def _is_taxii_21(media: str, params: dict[str, str]) -> bool:
    return media == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def check_accept(header: str | None) -> None:
    """406 unless the client accepts TAXII 2.1 (or anything)."""
    if not header:
        return
    for media, params in _parse(header):
        if params.get("q") == "0":
            continue
        if media in ("*/*", "application/*") or _is_taxii_21(media, params):
            return
    raise NotAcceptable(f"this server speaks {TAXII_21}; the request accepts {header[:200]!r}")


def check_content_type(header: str | None) -> None:
    """415 unless the body is declared as a TAXII 2.1 envelope."""
    entries = _parse(header or "")
    if len(entries) != 1 or not _is_taxii_21(*entries[0]):
        raise UnsupportedMediaType(f"send the envelope as {TAXII_21}, not {header or 'nothing'!r}")
