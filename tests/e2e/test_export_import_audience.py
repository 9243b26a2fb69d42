"""`tabadol export` carries each item's audience and `tabadol import` keeps it (issue 13,
finding 9): on another node each item goes to the collection of its audience, an audience
that cannot be kept is refused with its reason (never widened), and an explicit target is
taken when it is no wider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.client.remote import ClientKeys
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealed_object import seal_object
from tabadol.domain.extensions import AUDIENCE_EXTENSION
from tabadol.domain.keys import Custody, KeyPurpose
from tabadol.domain.model import Role
from tabadol.domain.sealed import is_sealed, wrapper_id
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.membership import organizations, sharing_groups
from tabadol.usecases.membership.principals import OPERATOR, org_principal
from tabadol.usecases.publishing.publish import publish_objects
from tabadol.usecases.reading.lookup import find_collection

from ..conftest import make_indicator

runner = CliRunner()


def tabadol(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, " ".join((result.stdout + result.stderr).split())  # unwrapped


def _node(path: Path, held: ClientKeys, groups: list[str]) -> None:
    """A node hosting Org K (keys on its own machine: the same on every node) and Org A,
    with K's groups named `groups` (each with A)."""
    init_node(path)
    with open_node(path) as node:
        organizations.add_org(node, "Org K", custody=Custody.CLIENT, public_keys=held.public())
        organizations.add_org(node, "Org A")
        for name in groups:
            sharing_groups.create_group(node, OPERATOR, name, "Org K")
            sharing_groups.add_group_member(node, OPERATOR, name, "Org A")


def _signed(held: ClientKeys, tlp: TLP) -> dict[str, Any]:
    obj = make_indicator(marking=tlp.marking_id)
    attach_signature(obj, held.signing, held.sign_id)
    return obj


def _publish(node: Node, title: str, objects: list[dict[str, Any]]) -> None:
    org = node.store.org_by_name("Org K")
    assert org is not None
    principal = org_principal(node, org, Role.PUBLISHER)
    collection = find_collection(node, principal, title, write=True)
    status = publish_objects(node, principal, collection, objects)
    assert not status.failures, status.failures


def _sealed_for_k(node: Node, held: ClientKeys, obj: dict[str, Any]) -> dict[str, Any]:
    org = node.store.org_by_name("Org K")
    assert org is not None
    key = node.store.current_keys([org.id], KeyPurpose.ENCRYPT)[org.id]
    sealed = seal_object(obj, {key.key_id: key.public_key})
    attach_signature(sealed, held.signing, held.sign_id)
    return sealed


def _where(path: Path) -> dict[str, set[str]]:
    """Which collections (titles) hold each stored id on the node at `path`, whoever may
    read them: the operator's view of what was written."""
    with open_node(path) as node:
        titles = {c.id: c.title for c in node.store.list_collections()}
        conn = node.store._db.reader()  # type: ignore[attr-defined]
        rows = conn.execute("SELECT stix_id, collection_id FROM objects").fetchall()
    found: dict[str, set[str]] = {}
    for stix_id, collection_id in rows:
        found.setdefault(stix_id, set()).add(titles[collection_id])
    return found


@pytest.fixture
def held() -> ClientKeys:
    return ClientKeys(SigningKey.generate(), PrivateKey.generate())


@pytest.fixture
def exported(tmp_path: Path, held: ClientKeys) -> tuple[Path, dict[str, dict[str, Any]]]:
    """What Org K published on node X, one item per audience, exported by `tabadol export`
    (only K's items: the directory records in it are node X's, signed by its node key)."""
    source = tmp_path / "x"
    _node(source, held, ["KA group", "KB group"])
    items = {
        "own": _signed(held, TLP.RED),
        "KA group": _signed(held, TLP.AMBER),
        "KB group": _signed(held, TLP.AMBER),
        "members": _signed(held, TLP.GREEN),
        "public": _signed(held, TLP.CLEAR),
    }
    with open_node(source) as node:
        _publish(node, "Org K", [_sealed_for_k(node, held, items["own"])])
        for title in ("KA group", "KB group", "members", "public"):
            _publish(node, title, [items[title]])
    out = tmp_path / "export.json"
    code, text = tabadol("export", "--org", "Org K", "-o", out, "--data", source)
    assert code == 0, text
    # K's own item stays sealed (K keeps its keys): exported as its sealed item
    ids = {obj["id"] for obj in items.values()} | {wrapper_id(items["own"]["id"])}
    bundle = json.loads(out.read_text())
    bundle["objects"] = [o for o in bundle["objects"] if o["id"] in ids]
    assert len(bundle["objects"]) == len(items)
    assert all(AUDIENCE_EXTENSION in o["extensions"] for o in bundle["objects"])
    out.write_text(json.dumps(bundle))
    return out, items


def test_import_elsewhere_keeps_each_audience(
    tmp_path: Path, held: ClientKeys, exported: tuple[Path, dict[str, dict[str, Any]]]
) -> None:
    """On node Y (Org K with the same keys, a group of the same name, no KB group), each
    item lands in the collection of its audience — the group found by name, the sealed
    item in K's own channel — and the item of an unknown group is refused with the reason
    and stored nowhere."""
    bundle, items = exported
    target = tmp_path / "y"
    _node(target, held, ["KA group"])
    code, text = tabadol("import", bundle, "--org", "Org K", "--data", target)
    assert code == 1, text
    assert "4 stored" in text, text
    assert "1 refused" in text, text
    assert "the group 'KB group', not known here" in text
    where = _where(target)
    assert where[wrapper_id(items["own"]["id"])] == {"Org K"}
    assert where[items["KA group"]["id"]] == {"KA group"}
    assert where[items["members"]["id"]] == {"members"}
    assert where[items["public"]["id"]] == {"public"}
    assert items["KB group"]["id"] not in where
    with open_node(target) as node:
        group = node.store.group_by_name("KA group")
        assert group is not None
    again = tmp_path / "again.json"
    code, text = tabadol("export", "--org", "Org K", "-o", again, "--data", target)
    assert code == 0, text
    reread = {o["id"]: o for o in json.loads(again.read_text())["objects"]}
    audience = reread[items["KA group"]["id"]]["extensions"][AUDIENCE_EXTENSION]
    assert (audience["group"], audience["group_id"]) == ("KA group", group.uuid)


def test_an_explicit_target_may_narrow_never_widen(
    tmp_path: Path, held: ClientKeys, exported: tuple[Path, dict[str, dict[str, Any]]]
) -> None:
    """`--collection` takes the items it does not widen: the members item into K's group,
    the group item into K's own channel; the group item into `members` or `public`, and an
    item for another org's own channel, are refused and stored nowhere."""
    bundle, items = exported
    target = tmp_path / "y"
    _node(target, held, ["KA group"])
    objects = {o["id"]: o for o in json.loads(bundle.read_text())["objects"]}

    def one(obj: dict[str, Any], name: str) -> Path:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"type": "bundle", "id": obj["id"], "objects": [obj]}))
        return path

    members_item, group_item = objects[items["members"]["id"]], objects[items["KA group"]["id"]]
    code, text = tabadol(
        "import",
        one(members_item, "m"),
        "--org",
        "Org K",
        "--collection",
        "KA group",
        "--data",
        target,
    )
    assert code == 0, text
    code, text = tabadol(
        "import",
        one(group_item, "g"),
        "--org",
        "Org K",
        "--collection",
        "Org K",
        "--data",
        target,
    )
    assert code == 0, text
    for wider in ("members", "public"):
        code, text = tabadol(
            "import",
            one(group_item, "g"),
            "--org",
            "Org K",
            "--collection",
            wider,
            "--data",
            target,
        )
        assert code == 1, text
        assert "an import never widens an audience" in text, text
    with open_node(target) as node:
        a = node.store.org_by_name("Org A")
        assert a is not None
    foreign = json.loads(json.dumps(members_item))
    foreign["extensions"][AUDIENCE_EXTENSION] = {
        "extension_type": "property-extension",
        "kind": "org",
        "org_ref": a.identity_id,
        "org": "Org A",
        "tlp": "TLP:GREEN",
    }
    code, text = tabadol("import", one(foreign, "f"), "--org", "Org K", "--data", target)
    assert code == 1, text
    assert "the own channel of 'Org A'" in text, text
    where = _where(target)
    assert where[members_item["id"]] == {"KA group"}
    assert where[group_item["id"]] == {"Org K"}
    assert not is_sealed(group_item)
