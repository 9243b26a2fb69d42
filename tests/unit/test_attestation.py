"""The node's attestation entries and where an imported item may go (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from tabadol.crypto.canonical import signing_payload, unsigned
from tabadol.domain.attestation import (
    Audience,
    read_audience,
    without_attestation,
)
from tabadol.domain.audience import AudienceKind
from tabadol.domain.errors import InvalidObject, Refused
from tabadol.domain.extensions import (
    AUDIENCE_EXTENSION,
    PROVENANCE_EXTENSION,
    SIGNATURE_EXTENSION,
)
from tabadol.domain.model import Collection, Group, Org
from tabadol.usecases.publishing.audience_routing import Channels, narrower_or_same, target_of

ENTRY = {"extension_type": "property-extension"}
OTHER = "extension-definition--00000000-0000-4000-8000-000000000001"


def _obj(**extensions: Any) -> dict[str, Any]:
    return {"type": "note", "id": "note--1", "content": "x", "extensions": extensions}


def test_the_payload_leaves_out_the_node_entries_and_the_signature() -> None:
    """What a signature covers is the same with or without the node's entries, and keeps
    any other extension."""
    bare = {"type": "note", "id": "note--1", "content": "x"}
    attested = _obj(**{PROVENANCE_EXTENSION: ENTRY, AUDIENCE_EXTENSION: ENTRY})
    signed = {**attested, "extensions": {**attested["extensions"], SIGNATURE_EXTENSION: ENTRY}}
    assert signing_payload(attested) == signing_payload(bare) == signing_payload(signed)
    assert unsigned(_obj(**{AUDIENCE_EXTENSION: ENTRY, OTHER: ENTRY}))["extensions"] == {
        OTHER: ENTRY
    }


def test_posted_entries_are_dropped_and_the_rest_kept() -> None:
    """without_attestation copies: the caller's object is unchanged."""
    posted = _obj(**{AUDIENCE_EXTENSION: ENTRY, OTHER: ENTRY})
    assert without_attestation(posted)["extensions"] == {OTHER: ENTRY}
    assert AUDIENCE_EXTENSION in posted["extensions"]
    assert "extensions" not in without_attestation(_obj(**{PROVENANCE_EXTENSION: ENTRY}))
    plain = {"type": "note"}
    assert without_attestation(plain) is plain


@pytest.mark.parametrize(
    "entry",
    [
        "members",
        {"kind": "everyone"},
        {"kind": "group"},
        {"kind": "org"},
        {"kind": "group", "group": ""},
        {"kind": "members", "tlp": 5},
    ],
    ids=["not-an-object", "unknown-kind", "group-unnamed", "org-unnamed", "empty", "tlp-int"],
)
def test_a_malformed_audience_is_an_invalid_object(entry: Any) -> None:
    with pytest.raises(InvalidObject):
        read_audience(_obj(**{AUDIENCE_EXTENSION: entry}))


ORG = Org(1, "Org K", "identity--k", True, 0)
COLLECTIONS = {
    "own": Collection(1, "c1", AudienceKind.ORG, 1, "Org K", ""),
    "KA": Collection(2, "c2", AudienceKind.GROUP, 10, "KA", ""),
    "KB": Collection(3, "c3", AudienceKind.GROUP, 11, "KB", ""),
    "members": Collection(4, "c4", AudienceKind.MEMBERS, None, "members", ""),
    "public": Collection(5, "c5", AudienceKind.PUBLIC, None, "public", ""),
}
GROUPS = [
    Group(10, "uuid-ka", "KA", 1, frozenset({1}), frozenset({1}), 0),
    Group(11, "uuid-kb", "KB", 1, frozenset({1}), frozenset({1}), 0),
]
CHANNELS = Channels(ORG, list(COLLECTIONS.values()), GROUPS)
AUDIENCES = {
    "own": Audience(AudienceKind.ORG, org="Org K"),
    "other-org": Audience(AudienceKind.ORG, org_ref="identity--a", org="Org A"),
    "KA": Audience(AudienceKind.GROUP, group="KA", group_id="uuid-elsewhere"),
    "members": Audience(AudienceKind.MEMBERS),
    "public": Audience(AudienceKind.PUBLIC),
}
# (item's audience, explicit target, allowed): the target is no wider than the audience
NARROWING = [
    ("own", "own", True),
    ("own", "KA", False),
    ("other-org", "own", False),
    ("KA", "own", True),
    ("KA", "KA", True),
    ("KA", "KB", False),
    ("KA", "members", False),
    ("members", "KA", True),
    ("members", "members", True),
    ("members", "public", False),
    ("public", "public", True),
    ("public", "own", True),
]


@pytest.mark.parametrize(
    ("audience", "target", "allowed"), NARROWING, ids=[f"{a}-into-{t}" for a, t, _ in NARROWING]
)
def test_an_explicit_target_never_widens(audience: str, target: str, allowed: bool) -> None:
    assert narrower_or_same(CHANNELS, COLLECTIONS[target], AUDIENCES[audience]) is allowed


def test_an_audience_routes_to_its_own_collection() -> None:
    """The group by name when its uuid is another node's; another org's channel refused."""
    assert target_of(CHANNELS, AUDIENCES["KA"], None) is COLLECTIONS["KA"]
    assert target_of(CHANNELS, AUDIENCES["own"], None) is COLLECTIONS["own"]
    with pytest.raises(Refused, match="widen"):
        target_of(CHANNELS, AUDIENCES["other-org"], None)
    with pytest.raises(Refused, match="not known here"):
        target_of(CHANNELS, Audience(AudienceKind.GROUP, group="ZZ"), None)
    with pytest.raises(Refused, match="--collection"):
        target_of(CHANNELS, None, None)
