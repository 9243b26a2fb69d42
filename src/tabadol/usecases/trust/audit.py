"""The audit log as a use case: verify it whole, list entries, prove inclusion and
consistency, and export signed tree heads for others to keep.

`verify` trusts nothing stored beside the entries: it recomputes every leaf hash from the
entry bytes, follows the chain of previous-leaf hashes, recomputes the Merkle root at every
signed head and checks the node's signature. A head kept outside the node (by a peer or a
member: `tabadol audit head`) catches the one change a local check cannot: a history
rewritten whole, or truncated together with its heads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nacl.signing import VerifyKey

from tabadol.crypto.audit_log import decode_entry
from tabadol.crypto.merkle import (
    append_to_frontier,
    consistency_proof,
    frontier_root,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from tabadol.crypto.signing import b64url, sign, unb64url, verify
from tabadol.domain.audit import AuditEntry, TreeHead, head_payload
from tabadol.domain.errors import Forbidden, InvalidInput, NotFound, SignatureError
from tabadol.domain.model import Principal, PrincipalKind
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.usecases.membership.principals import member_or_operator


@dataclass(frozen=True, slots=True)
class Problem:
    position: int  # the first bad position (an entry index, or a tree size for heads)
    reason: str


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    heads: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry_problem(entry: AuditEntry, expected: int, prev: bytes | None) -> str | None:
    if entry.position != expected:
        return f"entry {expected} is missing (found {entry.position} next)"
    try:
        fields = decode_entry(entry.entry)
    except ValueError:
        return "the entry is not valid JSON"
    if fields.get("position") != entry.position:
        return "the entry names another position (moved)"
    if (fields.get("at"), fields.get("action"), fields.get("actor")) != (
        entry.at,
        entry.action,
        entry.actor,
    ):
        return "the indexed columns differ from the entry (edited)"
    if fields.get("prev") != (b64url(prev) if prev is not None else ""):
        return "the entry does not follow the previous one (edited, deleted or reordered)"
    if leaf_hash(entry.entry) != entry.leaf_hash:
        return "the stored leaf hash does not match the entry (edited)"
    return None


def _head_problem(node: Node, head: TreeHead, computed: bytes) -> str | None:
    if head.key_id != node.node_key_id:
        return f"signed with {head.key_id}, not the node key {node.node_key_id}"
    try:
        verify(
            bytes(node.node_key.verify_key),
            head_payload(head.tree_size, head.root_hash, head.at),
            head.signature,
        )
    except SignatureError:
        return "the tree head signature does not verify"
    if head.root_hash != computed:
        return "the log's Merkle root differs from the signed tree head (history changed)"
    return None


def verify_log(node: Node, kept_heads: list[dict[str, Any]] | None = None) -> Verification:
    """Check every entry and every signed head; report the first bad position of each kind."""
    heads = {head.tree_size: head for head in node.store.audit_heads()}
    kept = [parse_head(node, raw) for raw in kept_heads or []]
    kept_sizes = {head.tree_size: head for head in kept}
    problems: list[Problem] = []
    frontier: list[bytes] = []
    prev: bytes | None = None
    size = 0
    entry_problem = False  # only the first bad entry: the ones after it follow from it
    for entry in node.store.iter_audit():
        reason = _entry_problem(entry, size, prev)
        if reason is not None and not entry_problem:
            problems.append(Problem(size, reason))
            entry_problem = True
        leaf = leaf_hash(entry.entry)
        frontier = append_to_frontier(frontier, size, leaf)
        prev = leaf
        size += 1
        for table, what in ((heads, "signed head"), (kept_sizes, "kept head")):
            head = table.get(size)
            if head is not None:
                head_reason = _head_problem(node, head, frontier_root(frontier))
                if head_reason is not None:
                    problems.append(
                        Problem(
                            size,
                            f"{what} at tree size {size} (entries 0-{size - 1}): {head_reason}",
                        )
                    )
    for head in sorted([*heads.values(), *kept], key=lambda h: h.tree_size):
        if head.tree_size > size:
            problems.append(
                Problem(
                    size,
                    f"a signed head covers {head.tree_size} entries; the log has {size}"
                    " (truncated)",
                )
            )
            break
    newest = max(heads, default=0)
    if size > newest:  # every append signs a head at its new size: these were not appended
        problems.append(
            Problem(
                newest,
                f"entries {newest}-{size - 1} are covered by no signed tree head"
                " (written without the node key)",
            )
        )
    recorded = node.store.audit_size()
    if recorded != size and not any(p.reason.endswith("(truncated)") for p in problems):
        problems.append(
            Problem(min(size, recorded), f"the log records {recorded} entries; {size} are present")
        )
    problems.sort(key=lambda p: p.position)
    return Verification(size, len(heads) + len(kept), problems)


# --- signed heads others keep -------------------------------------------------------------
def head_record(head: TreeHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root_hash": b64url(head.root_hash),
        "at": head.at,
        "key_id": head.key_id,
        "signature": b64url(head.signature),
    }


def latest_head(node: Node) -> dict[str, Any]:
    """The newest signed tree head, for a peer or a member to keep."""
    heads = node.store.audit_heads()
    if not heads:
        raise InvalidInput("the audit log is empty")
    return head_record(heads[-1])


def parse_head(node: Node, raw: Mapping[str, Any]) -> TreeHead:
    """A kept head, with its signature checked against the node key."""
    try:
        head = TreeHead(
            tree_size=int(raw["tree_size"]),
            root_hash=unb64url(str(raw["root_hash"])),
            at=int(raw["at"]),
            key_id=str(raw["key_id"]),
            signature=unb64url(str(raw["signature"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"not a signed tree head: {exc}") from None
    try:
        VerifyKey(bytes(node.node_key.verify_key)).verify(
            head_payload(head.tree_size, head.root_hash, head.at), head.signature
        )
    except Exception:
        raise InvalidInput("the kept head is not signed by this node's key") from None
    return head


# --- proofs -------------------------------------------------------------------------------
def prove_inclusion(node: Node, position: int, size: int | None = None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry `position` in the tree of `size` entries."""
    size = node.store.audit_size() if size is None else size
    leaves = node.store.audit_leaves(size)
    if not 0 <= position < len(leaves) or len(leaves) != size:
        raise InvalidInput(f"no entry {position} in a log of {len(leaves)} entries")
    proof = inclusion_proof(position, leaves)
    tree_root = root(leaves)
    assert verify_inclusion(leaves[position], position, size, proof, tree_root)
    return {
        "position": position,
        "tree_size": size,
        "leaf_hash": b64url(leaves[position]),
        "root_hash": b64url(tree_root),
        "proof": [b64url(node_hash) for node_hash in proof],
    }


def prove_consistency(node: Node, old_size: int, new_size: int | None = None) -> dict[str, Any]:
    """RFC 9162 consistency proof between two sizes of the log."""
    new_size = node.store.audit_size() if new_size is None else new_size
    leaves = node.store.audit_leaves(new_size)
    if not 0 < old_size <= new_size or len(leaves) != new_size:
        raise InvalidInput(f"sizes must satisfy 0 < {old_size} <= {new_size} <= {len(leaves)}")
    proof = consistency_proof(old_size, leaves)
    old_root, new_root = root(leaves[:old_size]), root(leaves)
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)
    return {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": b64url(old_root),
        "new_root": b64url(new_root),
        "proof": [b64url(node_hash) for node_hash in proof],
    }


def entries(
    node: Node,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int = 100,
) -> Iterator[AuditEntry]:
    """Entries matching the filters, oldest first, read page by page."""
    after: int | None = None
    served = 0
    while served < limit:
        page = node.store.audit_entries(
            action=action,
            actor=actor,
            since=since,
            until=until,
            after=after,
            limit=min(1000, limit - served),
        )
        yield from page
        served += len(page)
        if not page:
            return
        after = page[-1].position


def signed_head_for(node: Node, actor: Principal) -> dict[str, Any]:
    """A signed tree head for members and the operator to keep outside the node: the newest
    for the operator, the scheduled one for a member (`scheduled_head`)."""
    if not member_or_operator(actor):
        raise Forbidden("signed tree heads are for members and the operator")
    if actor.kind is PrincipalKind.NODE_ADMIN:
        return latest_head(node)
    return scheduled_head(node, node.clock())


def scheduled_head(node: Node, now: int) -> dict[str, Any]:
    """The log as it stood at the last boundary of the `audit_head_interval` schedule,
    signed with that boundary as its time.

    A member sees the log only once per interval: the newest head would grow, between two
    polls, with writes the member's change feed hides (another org's private channel, a
    read of a RED item), and the time of the newest head before a boundary would tell when
    the last one happened. What a member still learns is the number of entries of each
    interval, node-wide. The head is made on demand and signed deterministically (Ed25519),
    so every member asking within an interval gets the same bytes; `audit verify --head`
    checks it like any head (its time is not part of what it proves)."""
    interval = node.settings.audit_head_interval * 1_000_000
    boundary = now // interval * interval
    head = node.store.audit_head_before(boundary)
    if head is None:
        following = format_us(boundary + interval)
        raise NotFound(f"no signed head for members yet: the first is made at {following}")
    payload = head_payload(head.tree_size, head.root_hash, boundary)
    scheduled = TreeHead(
        head.tree_size, head.root_hash, boundary, node.node_key_id, sign(node.node_key, payload)
    )
    return head_record(scheduled)
