"""TAXII 2.1 query parameters (section 3.4): parsed once, into one immutable filter."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from tabadol.domain.errors import InvalidFilter
from tabadol.domain.sealed import lookup_ids
from tabadol.domain.stix import is_identifier
from tabadol.domain.timestamps import parse_filter_timestamp

KNOWN_PARAMETERS = frozenset(
    {
        "added_after",
        "limit",
        "next",
        "match[id]",
        "match[type]",
        "match[version]",
        "match[spec_version]",
    }
)
_MAX_LIST = 1000  # values in one match[...] parameter


@dataclass(frozen=True, slots=True)
class VersionFilter:
    """`match[version]`: any combination of first, last, all and exact timestamps."""

    first: bool = False
    last: bool = True
    all: bool = False
    at: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    added_after: int | None = None
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: VersionFilter = VersionFilter()
    spec_versions: frozenset[str] = frozenset()

    def fingerprint(self, scope: str) -> bytes:
        """A digest binding a paging token to the request it continues."""
        parts = [
            scope,
            str(self.added_after),
            ",".join(sorted(self.ids)),
            ",".join(sorted(self.types)),
            repr((self.versions.first, self.versions.last, self.versions.all)),
            ",".join(map(str, sorted(self.versions.at))),
            ",".join(sorted(self.spec_versions)),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).digest()[:12]


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    next_token: str | None


def _values(params: Mapping[str, str], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    values = [v.strip() for v in raw.split(",")]
    if not all(values):
        raise InvalidFilter(f"{name} has an empty value")
    if len(values) > _MAX_LIST:
        raise InvalidFilter(f"{name} lists more than {_MAX_LIST} values")
    return values


def parse_versions(params: Mapping[str, str], default_last: bool = True) -> VersionFilter:
    values = _values(params, "match[version]")
    if not values:
        return VersionFilter(last=default_last, all=not default_last)
    first = last = every = False
    at: set[int] = set()
    for value in values:
        if value == "first":
            first = True
        elif value == "last":
            last = True
        elif value == "all":
            every = True
        else:
            at.add(parse_filter_timestamp("match[version]", value))
    return VersionFilter(first=first, last=last, all=every, at=frozenset(at))


def parse_object_filter(
    params: Mapping[str, str], *, allow_id_type: bool = True, default_last: bool = True
) -> ObjectFilter:
    """Read the filter parameters; unknown `match[...]` fields are refused (not ignored)."""
    for name in params:
        if name not in KNOWN_PARAMETERS and name.startswith("match["):
            raise InvalidFilter(f"unsupported filter {name}")
    if not allow_id_type and ("match[id]" in params or "match[type]" in params):
        raise InvalidFilter("match[id] and match[type] do not apply to this endpoint")
    ids = _values(params, "match[id]")
    for value in ids:
        if not is_identifier(value):
            raise InvalidFilter(f"match[id]: {value[:80]!r} is not a STIX identifier")
    added_after = params.get("added_after")
    return ObjectFilter(
        added_after=(
            parse_filter_timestamp("added_after", added_after) if added_after is not None else None
        ),
        ids=frozenset(found for value in ids for found in lookup_ids(value)),
        types=frozenset(_values(params, "match[type]")),
        versions=parse_versions(params, default_last),
        spec_versions=frozenset(_values(params, "match[spec_version]")),
    )


def parse_page(params: Mapping[str, str], *, default: int, maximum: int) -> PageRequest:
    """`limit` (clamped to the node's maximum, as TAXII allows) and `next`."""
    raw = params.get("limit")
    limit = default
    if raw is not None:
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidFilter("limit must be a positive integer")
        limit = min(int(raw), maximum)
    return PageRequest(limit=limit, next_token=params.get("next"))
