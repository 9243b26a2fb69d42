"""Publish: validate, authorize, sign or verify, seal, and store objects — one envelope in
one transaction, with its status and its audit entry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import (
    Forbidden,
    InvalidEnvelope,
    InvalidObject,
    NotFound,
    Refused,
    RequestTooLarge,
)
from tabadol.domain.model import Collection, Principal
from tabadol.domain.policy import may_read, may_write
from tabadol.domain.stix import check_object
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.storage.base import NewVersion, StatusRecord, WriteOutcome
from tabadol.usecases.publishing.admission import (
    Admitted,
    Envelope,
    admit,
    finish,
    settle_signatures,
)

_OUTCOME_MESSAGES = {
    WriteOutcome.STORED: "stored",
    WriteOutcome.EXISTS: "this version was already stored",
}


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


def _label(obj: Any, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def signature_key_ids(objects: Sequence[Any]) -> set[str]:
    ids = set()
    for obj in objects:
        raw = obj.get("x_tabadol_signature") if isinstance(obj, dict) else None
        if isinstance(raw, dict) and isinstance(raw.get("key_id"), str):
            ids.add(raw["key_id"])
    return ids


def publish_objects(
    node: Node,
    principal: Principal,
    collection: Collection,
    objects: Sequence[Any],
    *,
    encrypt: bool = False,
    directory: bool = False,
    jcs_exact: bool = False,
    actor: str | None = None,
) -> StatusRecord:
    """Store every valid object, report every other one; one transaction, then acknowledge.

    Unsigned objects of an org whose keys the node holds are signed here; signed ones are
    verified against the publisher's keys. TLP:RED and AMBER+STRICT (or every object, with
    `encrypt`) are sealed to the audience. `directory` is the node publishing an org's
    identity: signed with the node key. `jcs_exact`: the strict decoder found no value that
    would make orjson's output differ from RFC 8785 (see `strict_json.JcsHint`).
    """
    authorize_write(node, principal, collection)
    assert principal.org is not None
    orgs = node.store.list_orgs()
    now = node.clock()
    env = Envelope(
        node=node,
        org=principal.org,
        collection=collection,
        hosted={org.identity_id: org for org in orgs},
        orgs_by_id={org.id: org for org in orgs},
        known_keys=node.store.keys_by_id(signature_key_ids(objects)),
        directory=directory,
        encrypt=encrypt,
        now=now,
        jcs_exact=jcs_exact,
    )
    failures: list[tuple[str, str, str]] = []
    admitted: list[tuple[Admitted, str]] = []  # with each object's own version text
    for obj in objects:
        text = _label(obj, "modified") or _label(obj, "created")
        try:
            admitted.append((admit(env, check_object(obj)), text))
        except (InvalidObject, Refused) as exc:
            failures.append((_label(obj, "id"), text, str(exc)))
    settle_signatures(env, [item for item, _ in admitted])
    prepared: list[NewVersion] = []
    texts: list[str] = []
    for item, text in admitted:
        try:
            prepared.append(finish(env, item))
            texts.append(text)
        except (InvalidObject, Refused) as exc:
            failures.append((item.checked.id, text, str(exc)))
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

    def audit_of(outcomes: list[tuple[WriteOutcome, int]]) -> list[AuditEvent]:
        status = built[-1]
        stored = [
            v.stix_id
            for v, (outcome, _) in zip(prepared, outcomes, strict=True)
            if outcome is WriteOutcome.STORED
        ]
        outcome = (
            Outcome.OK
            if not status.failures
            else (Outcome.PARTIAL if status.successes else Outcome.REFUSED)
        )
        detail: dict[str, Any] = {
            "collection": collection.uuid,
            "status": status_id,
            "stored": len(stored),
            "failed": len(status.failures),
        }
        if status.failures:  # ids only: a reason may quote a value of a restricted item
            detail["refused"] = [fid for fid, _, _ in status.failures[:100]]
        return [
            AuditEvent(
                "publish" if not directory else "directory.publish",
                actor or actor_of(principal),
                outcome,
                stored,
                detail,
            )
        ]

    node.store.write_versions(collection.id, principal.org.id, prepared, now, status_of, audit_of)
    return built[-1]
