"""The verdict of the session-wide conformance check (tests/conformance/check.py): which
reasons the reference tools give, and which of them are held against the node."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from tabadol.crypto.canonical import SIGNATURE_PROPERTY
from tabadol.domain import extensions
from tabadol.domain.stix import SEALED_PROPERTY

from ..conformance import check
from ..conformance.check import PARSE, VALIDATOR, Judge, Ledger
from ..conformance.recording import RecordingMiddleware, Scope


def _indicator(**extra: Any) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "C2 server",
        "description": "The campaign's command-and-control server.",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    obj.update(extra)
    return obj


def _signed(obj: dict[str, Any], key_id: str) -> dict[str, Any]:
    entry = {"extension_type": "property-extension", "alg": "Ed25519", "key_id": key_id}
    return {**obj, "extensions": {check.SIGNATURE_EXTENSION: {**entry, "value": key_id * 2}}}


def _judged(ledger: Ledger, judge: Judge | None = None) -> dict[str, check.Judged]:
    return {j.emitted.obj["id"]: j for j in ledger.judge(judge or Judge())}


def test_the_check_knows_tabadols_own_names() -> None:
    """The names the check treats as tabadol's are the ones the code writes (the check cannot
    import them: the bench runs it against a release without tabadol.domain.extensions)."""
    assert {
        extensions.SIGNATURE_EXTENSION,
        extensions.DIRECTORY_EXTENSION,
        *extensions.NODE_ATTESTED,
        extensions.SEALED_EXTENSION,
    } == check.TABADOL_EXTENSIONS
    assert check.SIGNATURE_EXTENSION == extensions.SIGNATURE_EXTENSION
    assert check.SEALED_TYPE == extensions.SEALED_TYPE
    assert (check.OLD_SIGNATURE, check.OLD_SEALED) == (SIGNATURE_PROPERTY, SEALED_PROPERTY)


def test_each_unexpected_property_and_what_hides_behind_them_is_a_reason() -> None:
    """stix2 stops at its first error; the check names every extra property and then the
    missing ones the extras hid."""
    obj = _indicator(x_tabadol_sealed={}, x_other=1)
    del obj["pattern"]
    assert set(check.parse_reasons(obj)) == {
        "unexpected property x_other",
        "unexpected property x_tabadol_sealed",
        "missing required property pattern",
    }
    assert check.parse_reasons(_indicator()) == ()
    assert check.parse_reasons({**_indicator(), "type": "x-vendor-thing"}) == (
        "unknown object type x-vendor-thing",
    )


def test_strict_mode_spares_the_uuidv5_id_of_an_identity_only() -> None:
    """An org identity's derived UUIDv5 id passes, as in assert_strict_stix; any other
    object with a UUIDv5 id is refused for it."""
    derived = str(uuid.uuid5(uuid.NAMESPACE_URL, "org:Org A"))
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{derived}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Org A",
        "description": "A member organization.",
        "identity_class": "organization",
    }
    assert check.validator_reasons(identity) == ()
    reasons = check.validator_reasons(_indicator(id=f"indicator--{derived}"))
    assert any("{103}" in r and "UUIDv4" in r for r in reasons), reasons


def test_only_what_the_node_did_is_held_against_it() -> None:
    """A producer's own custom property and missing SHOULD are counted but not held; a
    property the node added, and every reason of an object nobody posted, are held."""
    ledger = Ledger()
    relayed = _indicator(x_mitre_version="1.0", description=None)
    del relayed["description"]
    ledger.add_posted(relayed)
    ledger.add_emitted(_signed(relayed, "k1"), "TAXII objects")
    posted = _indicator()
    ledger.add_posted(posted)
    ledger.add_emitted({**posted, "x_tabadol_added": {}}, "TAXII objects")
    made = _indicator(x_node_note="made here")
    ledger.add_emitted(made, "member feed")
    judged = _judged(ledger)
    assert judged[relayed["id"]].verdict.refused_by(PARSE)
    assert judged[relayed["id"]].verdict.refused_by(VALIDATOR)
    assert judged[relayed["id"]].held.accepted
    assert judged[posted["id"]].held.reasons[PARSE] == ("unexpected property x_tabadol_added",)
    assert judged[made["id"]].held.reasons[PARSE] == ("unexpected property x_node_note",)


def test_a_sealed_form_posted_by_the_client_excuses_nothing() -> None:
    """The client CLI's sealed item is tabadol's, not a producer's: it is no baseline, and
    what it carries beyond the tabadol-sealed type is held."""
    sealed = {"type": "tabadol-sealed", "id": _indicator()["id"], "x_extra": 1}
    ledger = Ledger()
    ledger.add_posted(sealed)
    ledger.add_emitted(sealed, "TAXII objects")
    assert ledger.baselines(sealed) == []
    assert not _judged(ledger)[sealed["id"]].held.accepted


def test_the_previous_releases_sealed_form_is_counted_not_held() -> None:
    """This release never writes `x_tabadol_sealed`: an item in that form was stored before
    or relayed by a peer on the previous release, and only its author could re-seal it."""
    sealed = {**_indicator(), SEALED_PROPERTY: {"alg": "x"}}
    del sealed["pattern"]
    ledger = Ledger()
    ledger.add_emitted(sealed, "peer feed")
    judged = _judged(ledger)[sealed["id"]]
    assert not judged.verdict.accepted
    assert judged.held.accepted


def test_a_new_version_the_node_makes_keeps_its_producers_baseline() -> None:
    """A version nobody posted (derive adding refs to a report) is measured against the
    producer's other versions of that id."""
    first = _indicator(x_vendor="v")
    later = {**first, "modified": "2026-02-01T00:00:00.000Z"}
    ledger = Ledger()
    ledger.add_posted(first)
    ledger.add_emitted(later, "TAXII objects")
    assert _judged(ledger)[first["id"]].held.accepted


def test_the_same_object_signed_on_two_nodes_is_judged_once() -> None:
    """The cache key masks the signature's key and value, which neither tool reads."""
    judge = Judge()
    obj = _indicator()
    first, second = _signed(obj, "ed25519:one"), _signed(obj, "ed25519:two")
    assert first != second
    assert judge.verdict(first) == judge.verdict(second)
    assert judge.runs == 1
    judge.verdict({**obj, "name": "another"})
    assert judge.runs == 2


class _ListSink:
    def __init__(self) -> None:
        self.emitted_ids: list[tuple[str, str]] = []
        self.failures: list[str] = []

    def emitted(self, obj: Any, channel: str) -> None:
        self.emitted_ids.append((obj["id"], channel))

    def posted(self, obj: Any) -> None:
        raise AssertionError("nothing is posted here")

    def failed(self, text: str) -> None:
        self.failures.append(text)


def _serve(chunks: list[bytes], status: int, path: str) -> tuple[_ListSink, bytes]:
    """One GET through the recording middleware around an app sending `chunks`."""

    async def stream(scope: Scope, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    sink, sent = _ListSink(), bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.extend(message.get("body", b""))

    scope = {"type": "http", "method": "GET", "path": path, "headers": []}
    asyncio.run(RecordingMiddleware(stream, sink)(scope, receive, send))
    return sink, bytes(sent)


def _event(cursor: int, *objects: dict[str, Any]) -> bytes:
    page = {"changes": [{"op": "put", "object": o} for o in objects], "cursor": cursor}
    return b"id: %d\nevent: changes\ndata: %s\n\n" % (cursor, json.dumps(page).encode())


@pytest.mark.parametrize("cut", [1, 7, 40])
def test_stream_events_cut_anywhere_are_recorded_once_and_passed_on_unchanged(cut: int) -> None:
    """Server-Sent Events arrive in chunks that cut events anywhere; each object is recorded
    once, keep-alives are skipped, and the client receives the same bytes."""
    first, second = _indicator(), _indicator()
    body = _event(1, first) + b": keepalive\n\n" + _event(2, second)
    chunks = [body[i : i + cut] for i in range(0, len(body), cut)]
    sink, sent = _serve(chunks, 200, "/api/v1/stream")
    assert sent == body
    assert sink.emitted_ids == [(first["id"], "member stream"), (second["id"], "member stream")]
    assert sink.failures == []


def test_an_error_response_records_nothing() -> None:
    """Only successful payloads are emitted objects: an error echoing an object is not."""
    sink, _ = _serve([_event(1, _indicator())], 400, "/federation/v1/stream")
    assert sink.emitted_ids == []
