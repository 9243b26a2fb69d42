"""Import a STIX bundle as one org, through the same admission as a publish."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabadol.domain import strict_json
from tabadol.domain.audit import operator_as_org
from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import Role
from tabadol.node.node import Node
from tabadol.usecases.membership.break_glass import record_break_glass
from tabadol.usecases.membership.lookup import require_org
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.publishing.publish import envelope_objects, publish_objects
from tabadol.usecases.reading.lookup import find_collection

Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    total: int = 0
    stored: int = 0
    already_present: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def read_bundle(path: Path, hint: strict_json.JcsHint | None = None) -> list[Any]:
    """The objects of a STIX bundle file (or a TAXII envelope), read strictly."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    return envelope_objects(strict_json.loads(data, hint), max_objects=10_000_000)


def import_objects(
    node: Node,
    org_name: str,
    collection_ref: str,
    objects: list[Any],
    *,
    batch: int = 500,
    progress: Progress | None = None,
    jcs_exact: bool = False,
    break_glass: str | None = None,
) -> ImportSummary:
    """Publish `objects` as `org_name`, `batch` per transaction. Re-running resumes: stored
    versions are idempotent no-ops, so an interrupted import continues where it stopped.
    The operator publishing for an org that has its own admins is a break-glass step."""
    org = require_org(node, org_name)
    principal = org_principal(node, org, Role.PUBLISHER)
    collection = find_collection(node, principal, collection_ref, write=True)
    record_break_glass(node, OPERATOR, org, "import", break_glass, collection=collection.title)
    summary = ImportSummary(total=len(objects))
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        status = publish_objects(
            node,
            principal,
            collection,
            chunk,
            jcs_exact=jcs_exact,
            actor=operator_as_org(principal),
        )
        for _, _, message in status.successes:
            if message == "stored":
                summary.stored += 1
            else:
                summary.already_present += 1
        for _, _, reason in status.failures:
            summary.failed += 1
            summary.reasons[reason] += 1
        if progress:
            progress(len(chunk))
    return summary
