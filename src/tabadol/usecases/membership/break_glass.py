"""Break-glass: the operator acting as an org that has its own admins, visibly.

The operator adds orgs and mints their first tokens. Once an org has an admin of its own,
the operator may still mint a token for it, or act as it from the command line (export,
search, import as the org) — an operator must be able to help an org that lost its admin
token — but only through an explicit break-glass step with a reason: the step is written
to the audit log in the transaction of the act, and shown to the org's admins
(`GET /api/v1/orgs/{org}/break-glass`, `tabadol break-glass list`) until one of them
acknowledges it. Nothing is stored besides the audit log: entries are tamper-evident
there, and the pending ones are the break-glass entries for the org without an
acknowledgement entry naming their position.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tabadol.domain.audit import AuditEntry, AuditEvent, actor_of
from tabadol.domain.errors import Forbidden, InvalidInput, NotFound
from tabadol.domain.model import Org, Principal, PrincipalKind, Role
from tabadol.domain.people import PersonStatus
from tabadol.node.node import Node
from tabadol.usecases.membership.lookup import require_managed_org
from tabadol.usecases.membership.names import check_text

BREAK_GLASS = "break-glass"
ACKNOWLEDGE = "break-glass.acknowledge"
MAX_REASON = 500
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """One break-glass step as the org's admins see it."""

    position: int  # the audit entry: its id for acknowledging it
    at: int
    actor: str
    act: str  # what the operator did as the org: token.create, export, search, import
    reason: str
    detail: dict[str, Any]


def has_own_admin(node: Node, org: Org) -> bool:
    """Whether the org manages itself: an admin token of the org (not a person's: those act
    with their person's role) is live, or an admin person of it is active."""
    now = node.clock()
    if any(
        t.role == Role.ADMIN.value
        and t.revoked is None
        and t.person_id is None
        and (t.expires is None or t.expires > now)
        for t in node.store.list_tokens(org.id)
    ):
        return True
    return any(
        p.role is Role.ADMIN and p.status is PersonStatus.ACTIVE
        for p in node.store.list_people(org.id)
    )


def needs_break_glass(node: Node, actor: Principal, org: Org) -> bool:
    """The operator acting as an org of this node that has its own admins."""
    return actor.kind is PrincipalKind.NODE_ADMIN and org.hosted_here and has_own_admin(node, org)


def break_glass_event(
    node: Node,
    actor: Principal,
    org: Org,
    act: str,
    reason: str | None,
    **detail: Any,
) -> list[AuditEvent]:
    """The audit entry that records an act of the operator as `org` — none when the act
    needs no break-glass — or Forbidden when it does and no reason was given. The caller
    writes it in the transaction of the act (or before the act, for a read)."""
    if not needs_break_glass(node, actor, org):
        return []
    text = check_text("the break-glass reason", (reason or "").strip())
    if not text:
        raise Forbidden(
            f"{org.name!r} has its own admins: acting as it is a break-glass step, recorded and"
            " shown to them; give a reason (CLI: --break-glass REASON; API: break_glass)"
        )
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the break-glass reason is longer than {MAX_REASON} characters")
    event_detail = {"org": org.name, "act": act, "reason": text, **detail}
    return [AuditEvent(BREAK_GLASS, actor_of(actor), detail=event_detail)]


def break_glass_for_owners(
    node: Node,
    actor: Principal,
    owner_ids: frozenset[int],
    act: str,
    reason: str | None,
    group: str,
) -> list[AuditEvent]:
    """The operator changing a group acts as its owners: a break-glass step for each owner
    org that has its own admins (it could otherwise add a reader of its choosing)."""
    owners = node.store.orgs_by_ids(owner_ids)
    return [
        event
        for org_id in sorted(owners)
        for event in break_glass_event(node, actor, owners[org_id], act, reason, group=group)
    ]


def record_break_glass(
    node: Node, actor: Principal, org: Org, act: str, reason: str | None, **detail: Any
) -> None:
    """Record the step before a read as the org (export, search): the read then happens."""
    events = break_glass_event(node, actor, org, act, reason, **detail)
    if events:
        node.store.append_audit(events, node.clock())


def _entries(node: Node, action: str) -> Iterator[AuditEntry]:
    after = None
    while True:
        page = node.store.audit_entries(action=action, after=after, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].position


def pending(node: Node, actor: Principal, org_name: str) -> list[BreakGlass]:
    """The break-glass steps taken as the org that its admins have not acknowledged yet:
    for its admins, and the operator (who sees the audit log anyway)."""
    return _pending_of(node, _managed_org(node, actor, org_name))


def _managed_org(node: Node, actor: Principal, org_name: str) -> Org:
    """The named org, if the caller manages it (its admins, the operator); any other caller
    gets the answer a missing org gets, so the call tells nobody which orgs exist."""
    return require_managed_org(node, actor, org_name)


def _pending_of(node: Node, org: Org) -> list[BreakGlass]:
    acknowledged = {
        entry.detail.get("entry")
        for entry in _entries(node, ACKNOWLEDGE)
        if entry.detail.get("org") == org.name
    }
    return [
        BreakGlass(
            entry.position,
            entry.at,
            entry.actor,
            str(entry.detail.get("act", "")),
            str(entry.detail.get("reason", "")),
            {k: v for k, v in entry.detail.items() if k not in ("org", "act", "reason")},
        )
        for entry in _entries(node, BREAK_GLASS)
        if entry.detail.get("org") == org.name and entry.position not in acknowledged
    ]


def acknowledge(node: Node, actor: Principal, org_name: str, position: int) -> BreakGlass:
    """An admin of the org has seen the step: it is no longer pending (the entry stays in the
    log, with the acknowledgement after it). The operator cannot acknowledge for the org."""
    org = _managed_org(node, actor, org_name)
    if actor.kind is PrincipalKind.NODE_ADMIN:
        raise Forbidden(f"only the admins of {org.name!r} acknowledge its break-glass steps")
    step = next((s for s in _pending_of(node, org) if s.position == position), None)
    if step is None:
        raise NotFound(f"no pending break-glass step {position} for {org.name!r}")
    event = AuditEvent(ACKNOWLEDGE, actor_of(actor), detail={"org": org.name, "entry": position})
    node.store.append_audit([event], node.clock())
    return step
