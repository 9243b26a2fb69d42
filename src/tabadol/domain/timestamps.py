"""STIX/TAXII timestamps: strict parsing, integer microseconds, canonical rendering.

Versions and `date_added` are kept as integer microseconds since the epoch: they sort and
compare exactly and index well. STIX allows more than microsecond precision; digits past the
sixth are ignored for ordering (documented in the README).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from tabadol.domain.errors import InvalidFilter, TimestampError

# RFC 3339 in UTC with a mandatory "Z", as STIX 2.1 section 3.2 requires.
_STIX_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$", re.ASCII
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_us(value: object) -> int:
    """Microseconds since the epoch of a STIX timestamp, or TimestampError."""
    if not isinstance(value, str):
        raise TimestampError("timestamp must be a string")
    return _parse_text(value)


@lru_cache(maxsize=65_536)  # ingest sees the same created/modified strings again and again
def _parse_text(value: str) -> int:
    match = _STIX_TIMESTAMP.match(value)
    if match is None:
        raise TimestampError(f"{value!r} is not an RFC 3339 UTC timestamp (…THH:MM:SS[.s]Z)")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as exc:
        raise TimestampError(f"{value!r}: {exc}") from None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


def _seconds_text(micros: int) -> tuple[str, int]:
    """`YYYY-MM-DDTHH:MM:SS` of a moment, and its microseconds within the second."""
    seconds, fraction = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S"), fraction


def format_us(micros: int) -> str:
    """Render microseconds as an RFC 3339 UTC timestamp: millisecond precision where exact."""
    base, fraction = _seconds_text(micros)
    if fraction % 1000 == 0:
        return f"{base}.{fraction // 1000:03d}Z"
    return f"{base}.{fraction:06d}Z"


def format_date_added(micros: int) -> str:
    """`date_added` always with six fractional digits, so that the node's own timestamps
    also sort correctly as text (clients compare them as strings)."""
    base, fraction = _seconds_text(micros)
    return f"{base}.{fraction:06d}Z"


def parse_filter_timestamp(name: str, value: str) -> int:
    """Parse a timestamp given in a query parameter; a bad one is the caller's 400."""
    try:
        return parse_us(value)
    except TimestampError as exc:
        raise InvalidFilter(f"{name}: {exc}") from None
