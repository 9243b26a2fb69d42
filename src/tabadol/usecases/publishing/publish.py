"""Publish: validate, authorize, sign or verify, seal, and store objects — one envelope in
one transaction, with its status and its audit entry.

The steps: authorize, admit (`admission.admit_all`), settle what was refused and the
versions to store (`Prepared`), store them with the status and the audit entry, both built
by plain functions of the publication and the storage's outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tabadol.domain.audit import AuditEvent, Outcome, actor_of
from tabadol.domain.errors import Forbidden, InvalidEnvelope, NotFound, RequestTooLarge
from tabadol.domain.model import Collection, Principal
from tabadol.domain.policy import may_read, may_write
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.storage.contract import NewVersion, StatusRecord, WriteOutcome
from tabadol.usecases.publishing.admission import Admission, Refusal, admit_all
from tabadol.usecases.publishing.envelope import open_envelope
from tabadol.usecases.publishing.relayed import RELAYED_MESSAGE, RelayedCopies
from tabadol.usecases.publishing.signers import ORG_SIGNS, Signer

_OUTCOME_MESSAGES = {
    WriteOutcome.STORED: "stored",
    WriteOutcome.EXISTS: "this version was already stored",
}
# A standard TLP marking-definition or a tabadol extension-definition (or its author) posted
# as the node defines it: an idempotent success that stores nothing (the node serves its own
# copy; admission.is_standard_marking).
STANDARD_MESSAGE = "defined by the node (a standard TLP marking or tabadol's): served, not stored"


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


Failure = tuple[str, str, str]  # (id, version text, reason), as the TAXII status lists it


@dataclass(frozen=True, slots=True)
class Publication:
    """One envelope being published: by whom, where, and how its status and log name it."""

    principal: Principal
    collection: Collection
    total: int  # objects in the envelope
    status_id: str
    now: int
    actor: str  # who the audit log says did it
    action: str  # "publish", or "directory.publish" when the node signs an org's record
    # what the envelope's versions that collide with another member's objects were found
    copies: RelayedCopies = field(default_factory=RelayedCopies)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The admitted versions, each with its object's own timestamp text, and the refusals."""

    versions: list[NewVersion]
    texts: list[str]
    failures: list[Failure]
    posted_ids: list[str] = field(default_factory=list)  # each version's id as sent
    standard: list[tuple[str, str]] = field(default_factory=list)  # node's TLP markings: (id, text)


def _label(obj: Any, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _version_text(obj: Any) -> str:
    return _label(obj, "modified") or _label(obj, "created")


def _failure(objects: Sequence[Any], refusal: Refusal) -> Failure:
    """A refusal as the status lists it: the object's id (as sent, when it never passed the
    rules), its own version text, the reason."""
    obj = objects[refusal.index]
    stix_id = refusal.stix_id if refusal.stix_id is not None else _label(obj, "id")
    return stix_id, _version_text(obj), refusal.reason


def prepare(objects: Sequence[Any], admission: Admission) -> Prepared:
    """What the status reports of an admission: refusals named by id and version text."""
    failures = [_failure(objects, refusal) for refusal in admission.refusals]
    versions = [version for _, version in admission.versions]
    texts = [_version_text(objects[index]) for index, _ in admission.versions]
    posted = [_label(objects[index], "id") for index, _ in admission.versions]
    standard = [(stix_id, _version_text(objects[index])) for index, stix_id in admission.standard]
    return Prepared(versions, texts, failures, posted_ids=posted, standard=standard)


def status_record(
    publication: Publication, prepared: Prepared, outcomes: list[tuple[WriteOutcome, int]]
) -> StatusRecord:
    """The TAXII status of the envelope, once the storage said what became of each version."""
    successes = [(stix_id, text, STANDARD_MESSAGE) for stix_id, text in prepared.standard]
    failed = list(prepared.failures)
    for version, text, posted, (outcome, version_us) in zip(
        prepared.versions, prepared.texts, prepared.posted_ids, outcomes, strict=True
    ):
        # the object's own timestamp text where it has one (formatting costs ~2 us each)
        shown = text if version.version_us is not None else format_us(version_us)
        # named as the caller sent it; an object the node sealed says where it is served
        sealed_as = f" (sealed: {version.stix_id})" if posted != version.stix_id else ""
        if outcome is WriteOutcome.OWNED_BY_OTHER:
            failed.append((posted, shown, publication.copies.refusal(version) + sealed_as))
        elif outcome is WriteOutcome.COPY_OF_OTHER:
            successes.append((posted, shown, RELAYED_MESSAGE + sealed_as))
        else:
            successes.append((posted, shown, _OUTCOME_MESSAGES.get(outcome, "") + sealed_as))
    p = publication
    return StatusRecord(p.status_id, p.principal.org_id, p.now, p.total, successes, failed)


def audit_events(
    publication: Publication, prepared: Prepared, outcomes: list[tuple[WriteOutcome, int]]
) -> list[AuditEvent]:
    """The audit entry of the envelope, written in the same transaction as its versions."""
    status = status_record(publication, prepared, outcomes)
    stored = [
        v.stix_id
        for v, (outcome, _) in zip(prepared.versions, outcomes, strict=True)
        if outcome is WriteOutcome.STORED
    ]
    outcome = (
        Outcome.OK
        if not status.failures
        else (Outcome.PARTIAL if status.successes else Outcome.REFUSED)
    )
    detail: dict[str, Any] = {
        "collection": publication.collection.uuid,
        "status": publication.status_id,
        "stored": len(stored),
        "failed": len(status.failures),
    }
    if status.failures:  # ids only: a reason may quote a value of a restricted item
        detail["refused"] = [fid for fid, _, _ in status.failures[:100]]
    return [AuditEvent(publication.action, publication.actor, outcome, stored, detail)]


def publish_objects(
    node: Node,
    principal: Principal,
    collection: Collection,
    objects: Sequence[Any],
    *,
    encrypt: bool = False,
    signer: Signer = ORG_SIGNS,
    jcs_exact: bool = False,
    actor: str | None = None,
) -> StatusRecord:
    """Store every valid object, report every other one; one transaction, then acknowledge.

    Unsigned objects of an org whose keys the node holds are signed here (by `signer`: the
    org's key, or the node key when the node publishes an org's directory record); signed
    ones are verified against the publisher's keys. TLP:RED and AMBER+STRICT (or every
    object, with `encrypt`) are sealed to the audience. `jcs_exact`: the strict decoder found
    no value that would make orjson's output differ from RFC 8785 (`strict_json.JcsHint`).
    """
    authorize_write(node, principal, collection)
    assert principal.org is not None
    orgs = node.store.list_orgs()
    env = open_envelope(
        node, principal.org, collection, objects, orgs, signer, encrypt=encrypt, jcs_exact=jcs_exact
    )
    prepared = prepare(objects, admit_all(env, objects))
    publication = Publication(
        principal,
        collection,
        len(objects),
        str(uuid.uuid4()),
        env.now,
        actor or actor_of(principal),
        signer.audit_action,
    )
    outcomes = node.store.write_versions(
        collection.id,
        principal.org.id,
        prepared.versions,
        env.now,
        partial(status_record, publication, prepared),
        partial(audit_events, publication, prepared),
        same_content=publication.copies,
    )
    return status_record(publication, prepared, outcomes)
