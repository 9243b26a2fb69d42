"""`tabadol import` of what misp-stix writes: every event carries the standard TLP marking,
so a second member's import of it must succeed (exit 0), as the first one's does."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tabadol.domain.tlp import STANDARD_MARKINGS, TLP

from .test_cli import data as data
from .test_cli import tabadol


def _event(org: str) -> dict[str, object]:
    green = TLP.GREEN.marking_id
    report_id = f"report--{uuid.uuid4()}"
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "content": f"seen by {org}",
        "object_refs": [report_id],
        "object_marking_refs": [green],
    }
    return {"type": "bundle", "objects": [STANDARD_MARKINGS[green], note]}


def test_two_members_import_bundles_carrying_the_standard_marking(
    data: Path,
    tmp_path: Path,
) -> None:
    """Both imports exit 0 with nothing refused; the marking is not stored as anyone's."""
    for org in ("Pardis CERT", "Rafidain"):
        path = tmp_path / f"{org}.json"
        path.write_text(json.dumps(_event(org)))
        out, _ = tabadol("import", path, "--org", org, "--collection", "members", "--data", data)
        assert "1 stored, 1 already present, 0 refused" in out
    exported, _ = tabadol("export", "--org", "Rafidain", "--collection", "members", "--data", data)
    assert TLP.GREEN.marking_id not in {o["id"] for o in json.loads(exported)["objects"]}
