"""Publish: validate, authorize, mark and store objects, one envelope in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from tabadol.domain.audience import tlp_allows
from tabadol.domain.errors import Forbidden, InvalidEnvelope, NotFound, RequestTooLarge
from tabadol.domain.model import Collection, Org, Principal
from tabadol.domain.policy import may_read, may_write
from tabadol.domain.stix import SCO_TYPES, CheckedObject, InvalidObject, check_object
from tabadol.domain.timestamps import format_us
from tabadol.services.node import Node
from tabadol.storage.base import NewVersion, StatusRecord, WriteOutcome

_OUTCOME_MESSAGES = {
    WriteOutcome.STORED: "stored",
    WriteOutcome.EXISTS: "this version was already stored",
}


class _Refused(Exception):
    """An object breaks a rule of the exchange (not of STIX)."""


def envelope_objects(envelope: Any, max_objects: int) -> list[Any]:
    """The `objects` of a TAXII envelope (or a STIX bundle), checked for shape and size."""
    if not isinstance(envelope, dict):
        raise InvalidEnvelope('the body must be a TAXII envelope: {"objects": [...]}')
    objects = envelope.get("objects")
    if not isinstance(objects, list):
        raise InvalidEnvelope("the envelope needs an 'objects' list")
    if len(objects) > max_objects:
        raise RequestTooLarge(
            f"the envelope holds {len(objects)} objects; the limit is {max_objects} per request"
        )
    return objects


def authorize_write(node: Node, principal: Principal, collection: Collection) -> None:
    anonymous_public = node.settings.anonymous_public_read
    if may_write(principal, collection):
        return
    if may_read(principal, collection, anonymous_public=anonymous_public):
        raise Forbidden("you may read this collection but not publish into it")
    raise NotFound("no such collection")


def _prepare(
    node: Node,
    principal: Principal,
    collection: Collection,
    checked: CheckedObject,
    hosted: dict[str, Org],
) -> NewVersion:
    org = principal.org
    assert org is not None
    obj = checked.obj
    if checked.created_by_ref is not None and checked.created_by_ref != org.identity_id:
        other = hosted.get(checked.created_by_ref)
        if other is not None:
            raise _Refused(
                f"created_by_ref names {other.name!r}: nobody publishes as another organization"
            )
    if checked.type == "identity" and checked.id != org.identity_id:
        other = hosted.get(checked.id)
        if other is not None:
            raise _Refused(f"this identity belongs to {other.name!r}")
    created_by_ref = checked.created_by_ref
    if created_by_ref is None and checked.type not in SCO_TYPES:
        created_by_ref = obj["created_by_ref"] = org.identity_id
    tlp = checked.tlp
    defaulted = tlp is None
    if tlp is None:
        tlp = node.channel_defaults.for_kind(collection.kind)
        if checked.type != "marking-definition":
            obj["object_marking_refs"] = [*obj.get("object_marking_refs", []), tlp.marking_id]
    if not tlp_allows(tlp, collection.kind):
        raise _Refused(f"{tlp.label} may not be shared with the audience {collection.kind.value!r}")
    return NewVersion(
        stix_id=checked.id,
        type=checked.type,
        spec_version=checked.spec_version,
        version_us=checked.version_us,
        created_by_ref=created_by_ref,
        tlp=tlp.label,
        tlp_defaulted=defaulted,
        body=_encode(obj),
    )


def _encode(obj: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise InvalidObject(f"cannot be stored as JSON: {exc}") from None


def _label(obj: Any, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def publish_objects(
    node: Node, principal: Principal, collection: Collection, objects: Sequence[Any]
) -> StatusRecord:
    """Store every valid object, report every other one; one transaction, then acknowledge."""
    authorize_write(node, principal, collection)
    assert principal.org is not None
    failures: list[tuple[str, str, str]] = []
    prepared: list[NewVersion] = []
    hosted = {org.identity_id: org for org in node.store.list_orgs()}
    texts: list[str] = []  # each prepared object's own version text
    for obj in objects:
        text = _label(obj, "modified") or _label(obj, "created")
        try:
            prepared.append(_prepare(node, principal, collection, check_object(obj), hosted))
            texts.append(text)
        except (InvalidObject, _Refused) as exc:
            failures.append((_label(obj, "id"), text, str(exc)))
    now = node.clock()
    status_id = str(uuid.uuid4())

    built: list[StatusRecord] = []  # the status made inside the write transaction

    def status_of(outcomes: list[tuple[WriteOutcome, int]]) -> StatusRecord:
        successes, failed = [], list(failures)
        for version, text, (outcome, version_us) in zip(prepared, texts, outcomes, strict=True):
            # the object's own timestamp text where it has one (formatting costs ~2 us each)
            shown = text if version.version_us is not None else format_us(version_us)
            entry = (version.stix_id, shown, _OUTCOME_MESSAGES.get(outcome, ""))
            if outcome is WriteOutcome.OWNED_BY_OTHER:
                failed.append((entry[0], entry[1], "another organization publishes this id here"))
            else:
                successes.append(entry)
        built.append(
            StatusRecord(status_id, principal.org_id, now, len(objects), successes, failed)
        )
        return built[-1]

    node.store.write_versions(collection.id, principal.org.id, prepared, now, status_of)
    return built[-1]
