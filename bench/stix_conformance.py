"""Is what a tabadol node emits STIX the field accepts? (issue 13)

Starts a real node (`tabadol init` and `tabadol serve` in a temporary data directory, SQLite,
a free loopback port; stopped at the end whatever happens), creates its members with the CLI
(an org whose keys the node holds, an org that keeps its own keys, a sharing group of both, a
guest), publishes a representative corpus through the public interfaces only (TAXII POST, and
`tabadol publish` for the org that keeps its keys: reports, indicators, malware,
relationships, a third party's identity, notes, an item in each audience, TLP:RED items sealed
by the node and by the CLI client, derived indicators, the ATT&CK ICS and Mobile bundles from
../shared/data when present, and a MISP event converted by misp-stix when it is installed),
then reads everything back as each reader — TAXII object pages (latest and every version),
every object they reference fetched by id (authors, markings, extension definitions), the
change feed (`/api/v1/changes`) and `tabadol export` — and judges each distinct object with
`stix2.parse(allow_custom=False)` and stix2-validator in strict mode (tests/conformance/check).

A refusal is put down to the node when the object as its producer posted it does not have the
same reason (ATT&CK's `x_mitre_*` properties are MITRE's, not the node's): the table gives
both counts.

It uses only interfaces the commit before issue 13 (d5c95ac) already had, so the same script
measures before and after: run it with that tree's `src` on PYTHONPATH.

    .venv/bin/python bench/stix_conformance.py [--skip-attack] [--skip-misp]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conformance.check import PARSE, TOOLS, VALIDATOR, Judge, Ledger  # noqa: E402

DATA = ROOT.parent / "shared" / "data"  # beside the repository, as in tests and bench/attack.py
BUNDLES = {
    "ATT&CK ICS": DATA / "ics-attack-18.1.json",
    "ATT&CK Mobile": DATA / "mobile-attack-17.1.json",
}
TAXII = "application/taxii+json;version=2.1"
TLP = {  # the OASIS TLP 2.0 marking-definitions
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
NODE_ORG, CLIENT_ORG, GUEST, GROUP = "Pardis CERT", "Northwind Agency", "Guest Reader", "ICS WG"
STAMP = "2026-02-01T10:00:00.000Z"
# a hash in the reports' text, for derive to find
DROPPER_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- the node ----------------------------------------------------------------------------------
@dataclass
class Node:
    """`tabadol` run as its users run it: the CLI and `tabadol serve`, in subprocesses."""

    data: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str | Path) -> str:
        command = [sys.executable, "-m", "tabadol", *map(str, args)]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"tabadol {' '.join(map(str, args))}: {done.stderr.strip()}")
        return done.stdout

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        log = (self.data.parent / "serve.log").open("wb")
        args = ["serve", "--data", str(self.data), "--port", str(self.port)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tabadol", *args], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the node exited: {(self.data.parent / 'serve.log').read_text()}"
                )
            try:
                httpx.get(f"{self.url}/taxii2/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the node did not start within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_node(workdir: Path) -> Iterator[Node]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(workdir / "config"), "TABADOL_LOG_LEVEL": "warning"}
    node = Node(workdir / "node", env)
    node.cli("init", node.data, "--name", "conformance bench")
    try:
        yield node
    finally:
        node.stop()


@dataclass
class Member:
    name: str
    token: str
    keys: Path | None = None  # the private key file of an org that keeps its keys
    collections: dict[str, str] = field(default_factory=dict)  # title -> TAXII id


def create_members(node: Node, workdir: Path) -> dict[str, Member]:
    """The node-custody org, the client-custody org, their group, a guest: with the CLI."""
    node.cli("org", "add", NODE_ORG, "--data", node.data)
    keys, public = workdir / "northwind.keys", workdir / "northwind.pub"
    public.write_text(node.cli("key", "generate", "--out", keys))
    node.cli("org", "add", CLIENT_ORG, "--public-keys", public, "--data", node.data)
    node.cli("org", "add", GUEST, "--guest", "--data", node.data)
    node.cli("group", "create", GROUP, "--owner", NODE_ORG, "--data", node.data)
    node.cli("group", "add", GROUP, CLIENT_ORG, "--data", node.data)

    def token(org: str, role: str) -> str:
        out = node.cli("token", "create", org, "--role", role, "--data", node.data)
        return out.strip().splitlines()[-1]

    return {
        NODE_ORG: Member(NODE_ORG, token(NODE_ORG, "publisher")),
        CLIENT_ORG: Member(CLIENT_ORG, token(CLIENT_ORG, "publisher"), keys),
        GUEST: Member(GUEST, token(GUEST, "reader")),
    }


# --- the corpus --------------------------------------------------------------------------------
def _sdo(kind: str, tlp: str | None, **props: Any) -> dict[str, Any]:
    obj = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": STAMP}
    obj["modified"] = STAMP
    if tlp:
        obj["object_marking_refs"] = [TLP[tlp]]
    obj.update(props)
    return obj


def _indicator(tlp: str | None, ip: str) -> dict[str, Any]:
    return _sdo(
        "indicator",
        tlp,
        name=f"C2 server {ip}",
        description=f"Command-and-control server at {ip} seen in the campaign.",
        indicator_types=["malicious-activity"],
        pattern=f"[ipv4-addr:value = '{ip}']",
        pattern_type="stix",
        valid_from="2026-02-01T00:00:00Z",
    )


def _report(tlp: str | None, refs: list[str], title: str) -> dict[str, Any]:
    return _sdo(
        "report",
        tlp,
        name=title,
        description=f"{title}: the dropper {DROPPER_SHA256} exploits CVE-2024-3400.",
        report_types=["campaign"],
        published="2026-02-01T10:00:00Z",
        object_refs=refs,
    )


def story(tlp: str | None, ip: str, title: str) -> list[dict[str, Any]]:
    """A report with an indicator, malware, the relationship between them, and the vendor
    identity that wrote the malware entry (a third party a member relays)."""
    vendor = _sdo("identity", tlp, name="Example Vendor Labs", identity_class="organization")
    indicator = _indicator(tlp, ip)
    malware = _sdo(
        "malware",
        tlp,
        name="WiperX",
        description="A wiper seen against industrial control networks.",
        is_family=True,
        malware_types=["wiper"],
        created_by_ref=vendor["id"],
    )
    relation = _sdo(
        "relationship",
        tlp,
        relationship_type="indicates",
        description="The server distributes the wiper.",
        source_ref=indicator["id"],
        target_ref=malware["id"],
    )
    refs = [vendor["id"], indicator["id"], malware["id"], relation["id"]]
    return [vendor, indicator, malware, relation, _report(tlp, refs, title)]


def note(tlp: str | None, text: str, about: str) -> dict[str, Any]:
    return _sdo("note", tlp, abstract=text[:40], content=text, object_refs=[about])


def misp_event() -> list[dict[str, Any]] | None:
    """A MISP event with the usual attribute types, converted by misp-stix (None without it)."""
    try:
        from misp_stix_converter import MISPtoSTIX21Parser
        from pymisp import MISPEvent, MISPObject
    except ImportError:
        return None
    event = MISPEvent()
    event.info, event.date = "Phishing wave against ministries", "2026-02-01"
    event.add_tag("tlp:green")
    event.add_attribute("ip-dst", "198.51.100.23", to_ids=True, comment="C2")
    event.add_attribute("domain", "login-update.example", to_ids=True)
    event.add_attribute("sha256", "a" * 64, to_ids=True)
    event.add_attribute("vulnerability", "CVE-2024-3400")
    dropped = MISPObject("file")
    dropped.add_attribute("filename", "invoice.pdf.exe")
    dropped.add_attribute("md5", "b" * 32)
    event.add_object(dropped)
    body = json.loads(event.to_json())
    body["Orgc"] = {"name": "MISP of Pardis", "uuid": str(uuid.uuid4())}
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event({"Event": body})
    return list(json.loads(parser.bundle.serialize())["objects"])


# --- publishing ----------------------------------------------------------------------------------
class Publisher:
    """Posts as a member; remembers every object as its producer wrote it (the baseline)."""

    def __init__(self, node: Node, posted: list[dict[str, Any]]) -> None:
        self.node, self.posted = node, posted
        self.refused: Counter[str] = Counter()

    def taxii(self, member: Member, collection: str, objects: list[dict[str, Any]]) -> None:
        url = f"{self.node.url}/taxii2/root/collections/{member.collections[collection]}/objects/"
        headers = {
            "Authorization": f"Bearer {member.token}",
            "Content-Type": TAXII,
            "Accept": TAXII,
        }
        for start in range(0, len(objects), 500):
            chunk = objects[start : start + 500]
            response = httpx.post(url, json={"objects": chunk}, headers=headers, timeout=300)
            response.raise_for_status()
            for failure in response.json().get("failures", []):
                self.refused[f"{collection}: {failure.get('message', '')[:90]}"] += 1
            self.posted += chunk

    def client(self, member: Member, collection: str, objects: list[dict[str, Any]]) -> None:
        """`tabadol publish`: the org's own CLI signs (and seals RED) before upload."""
        assert member.keys is not None
        bundle = member.keys.parent / f"publish-{uuid.uuid4()}.json"
        bundle.write_text(
            json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
        )
        self.node.cli(
            "publish", bundle, "--url", self.node.url, "--token", member.token,
            "--keys", member.keys, "--collection", member.collections[collection],
        )  # fmt: skip
        self.posted += objects

    def derive(self, member: Member, collection: str, report: dict[str, Any]) -> None:
        """The node turns the indicators in a report's text into STIX (skipped where absent)."""
        url = (
            f"{self.node.url}/api/v1/collections/{member.collections[collection]}"
            f"/objects/{report['id']}/indicators"
        )
        response = httpx.post(url, headers={"Authorization": f"Bearer {member.token}"}, timeout=60)
        if response.status_code == 404:
            print("derived indicators: not served by this node, skipped")
        elif response.status_code >= 300:
            print(f"derived indicators: refused ({response.status_code}): {response.text[:200]}")


def collections_of(node: Node, member: Member) -> None:
    headers = {"Authorization": f"Bearer {member.token}", "Accept": TAXII}
    response = httpx.get(f"{node.url}/taxii2/root/collections/", headers=headers, timeout=30)
    response.raise_for_status()
    member.collections = {c["title"]: c["id"] for c in response.json().get("collections", [])}


def publish_corpus(node: Node, members: dict[str, Member], args: argparse.Namespace) -> list[Any]:
    posted: list[dict[str, Any]] = []
    pub = Publisher(node, posted)
    pardis, northwind = members[NODE_ORG], members[CLIENT_ORG]
    members_story = story("GREEN", "198.51.100.7", "Wiper campaign")
    pub.taxii(pardis, "members", members_story)
    newer = {
        **members_story[-1],
        "modified": "2026-02-02T10:00:00.000Z",
        "name": "Wiper campaign (update)",
    }
    pub.taxii(pardis, "members", [newer])
    pub.taxii(pardis, "public", story("CLEAR", "198.51.100.8", "Public advisory"))
    pub.taxii(pardis, GROUP, story("AMBER", "198.51.100.9", "Working group brief"))
    red = story("RED", "198.51.100.10", "Red brief")  # sealed by the node
    pub.taxii(pardis, GROUP, red)
    pub.taxii(pardis, NODE_ORG, [note(None, "Our own notes on the wiper.", red[1]["id"])])
    pub.derive(pardis, "members", newer)
    pub.client(northwind, "members", story("GREEN", "203.0.113.7", "Northwind sighting"))
    pub.client(
        northwind, GROUP, story("RED", "203.0.113.8", "Northwind red brief")
    )  # sealed by the CLI
    pub.client(northwind, CLIENT_ORG, [note(None, "Internal follow-up.", red[1]["id"])])
    if not args.skip_attack:
        for name, path in BUNDLES.items():
            if not path.exists():
                print(f"{name}: {path} is not there, skipped")
                continue
            pub.taxii(pardis, "public", json.loads(path.read_text())["objects"])
    event = None if args.skip_misp else misp_event()
    if event is None:
        print("MISP event: misp-stix is not installed (or --skip-misp), skipped")
    else:
        pub.taxii(pardis, "members", event)
    for reason, count in pub.refused.most_common():
        print(f"refused on publish: {count} × {reason}")
    return posted


# --- reading back ------------------------------------------------------------------------------
class Reader:
    """Reads as one member, handing each object to the ledger of its channel."""

    def __init__(self, node: Node, member: Member, ledgers: dict[str, Ledger]) -> None:
        self.node, self.member, self.ledgers = node, member, ledgers
        self.headers = {"Authorization": f"Bearer {member.token}", "Accept": TAXII}

    def _emit(self, channel: str, objects: list[Any]) -> None:
        ledger = self.ledgers.setdefault(channel, Ledger())
        for obj in objects:
            ledger.add_emitted(obj, channel, self.member.name)

    def _pages(self, url: str, **params: str) -> Iterator[dict[str, Any]]:
        query = dict(params)
        while True:
            response = httpx.get(url, params=query, headers=self.headers, timeout=120)
            if response.status_code != 200:
                return
            body = response.json()
            yield body
            if not body.get("more"):
                return
            query["next"] = body["next"]

    def taxii(self) -> None:
        for collection_id in self.member.collections.values():
            url = f"{self.node.url}/taxii2/root/collections/{collection_id}/objects/"
            seen: list[dict[str, Any]] = []
            for body in self._pages(url, limit="1000"):
                seen += body.get("objects", [])
            self._emit("TAXII objects", seen)
            for body in self._pages(url, limit="1000", **{"match[version]": "all"}):
                self._emit("TAXII objects, every version", body.get("objects", []))
            self._references(url, seen)

    def _references(self, url: str, objects: list[dict[str, Any]]) -> None:
        """What a reader resolves: authors, markings and extension definitions, by id."""
        held = {obj["id"] for obj in objects}
        refs: set[str] = set()
        for obj in objects:
            refs.update(r for r in [obj.get("created_by_ref")] if isinstance(r, str))
            refs.update(r for r in obj.get("object_marking_refs", []) if isinstance(r, str))
            refs.update(
                k for k in obj.get("extensions", {}) if k.startswith("extension-definition--")
            )
        for ref in sorted(refs - held):
            for body in self._pages(f"{url}{ref}/", **{"match[version]": "all"}):
                self._emit("TAXII object by id", body.get("objects", []))

    def feed(self) -> None:
        after = 0
        while True:
            url = f"{self.node.url}/api/v1/changes"
            response = httpx.get(
                url, params={"after": str(after)}, headers=self.headers, timeout=120
            )
            response.raise_for_status()
            body = response.json()
            self._emit("change feed", [c["object"] for c in body["changes"] if "object" in c])
            if not body["changes"] or body["cursor"] == after:
                return
            after = body["cursor"]

    def export(self, workdir: Path) -> None:
        out = workdir / f"export-{uuid.uuid4()}.json"
        args = ["export", "--org", self.member.name, "--all-versions", "-o", str(out)]
        try:
            self.node.cli(*args, "--data", self.node.data)
        except RuntimeError as exc:  # newer nodes ask the operator to say why (break-glass)
            if "break-glass" not in str(exc):
                raise
            self.node.cli(*args, "--break-glass", "conformance bench", "--data", self.node.data)
        self._emit("tabadol export", json.loads(out.read_text())["objects"])


# --- the verdict -------------------------------------------------------------------------------
def judge(ledgers: dict[str, Ledger], posted: list[dict[str, Any]]) -> tuple[list[str], Judge]:
    everything = Ledger()
    for ledger in ledgers.values():
        for entry in ledger.emitted.values():
            everything.add_emitted(entry.obj, "all")
    verdicts = Judge()
    lines = [
        "| channel | objects emitted (distinct) | refused by stix2.parse | the node's doing"
        " | refused by stix2-validator --strict | the node's doing |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, ledger in [*sorted(ledgers.items()), ("all channels", everything)]:
        for obj in posted:
            ledger.add_posted(obj)
        judged = ledger.judge(verdicts)
        cells = [name, str(len(judged))]
        for tool in TOOLS:
            cells.append(str(sum(j.verdict.refused_by(tool) for j in judged)))
            cells.append(str(sum(j.held.refused_by(tool) for j in judged)))
        lines.append("| " + " | ".join(cells) + " |")
    judged = everything.judge(verdicts)
    for whose, top in (("the node's doing", 20), ("the producer's own content", 6)):
        for tool in TOOLS:
            causes: Counter[str] = Counter()
            for item in judged:
                held = set(item.held.reasons[tool])
                mine = whose == "the node's doing"
                for reason in held if mine else set(item.verdict.reasons[tool]) - held:
                    causes[f"{item.emitted.obj.get('type')}: {reason[:150]}"] += 1
            lines.append(f"\n{whose}, {tool}, top reasons (objects):")
            lines += [f"  {n:5d} × {cause}" for cause, n in causes.most_common(top)] or ["  none"]
    return lines, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-attack", action="store_true", help="leave the ATT&CK bundles out")
    parser.add_argument("--skip-misp", action="store_true", help="leave the MISP event out")
    args = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="tabadol-conformance-") as tmp,
        running_node(Path(tmp)) as node,
    ):
        workdir = Path(tmp)
        print("tabadol from", _source(node))
        members = create_members(node, workdir)
        node.start()
        for member in members.values():
            collections_of(node, member)
        posted = publish_corpus(node, members, args)
        ledgers: dict[str, Ledger] = {}
        for member in members.values():
            reader = Reader(node, member, ledgers)
            reader.taxii()
            reader.feed()
            reader.export(workdir)
        node.stop()
    checked = time.monotonic()
    lines, verdicts = judge(ledgers, posted)
    print("\n".join(lines))
    per = {t: 1000 * s / max(verdicts.runs, 1) for t, s in verdicts.seconds.items()}
    print(
        f"\n{verdicts.runs} distinct objects judged in {time.monotonic() - checked:.0f} s"
        f" (stix2.parse {per[PARSE]:.2f} ms, stix2-validator {per[VALIDATOR]:.2f} ms an object);"
        f" node run {checked - started:.0f} s"
    )


def _source(node: Node) -> str:
    """Which tabadol the node runs: its package directory and that checkout's commit."""
    command = [sys.executable, "-c", "import tabadol; print(tabadol.__file__)"]
    found = subprocess.run(command, env=node.env, capture_output=True, text=True).stdout.strip()
    head = ["git", "-C", str(Path(found).parent), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(head, capture_output=True, text=True).stdout.strip()
    return f"{found} (commit {commit or 'unknown'})"


if __name__ == "__main__":
    main()
