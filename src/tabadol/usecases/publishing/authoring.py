"""Writing a report or a note from plain fields, so that nobody writes STIX by hand.

A person (in the browser), the CLI or the native API gives a title, a text, its language,
an audience channel, a TLP and the indicators to keep of those found in the text; this
composes the STIX 2.1 objects — the report (or note), one indicator (or vulnerability, for
a CVE) per kept indicator with a valid pattern, a `derived-from` relationship from each to
the report, the report's `object_refs` naming them — and publishes them as one envelope
through the org's ordinary publish path: the node signs for an org whose keys it holds, and
seals RED and AMBER+STRICT end to end to the audience.

Everything that could refuse a part of the envelope is checked first (who may write where,
the TLP the audience allows, the keys the node needs), so an envelope is stored whole or
not at all. The indicators kept are those the text holds (`text.extract`: refanged,
checksum-valid wallets only): a value that is not in the text is never published.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tabadol.domain.audience import tlp_allows
from tabadol.domain.errors import Forbidden, InvalidInput, Refused, UnknownTLP
from tabadol.domain.keys import Custody
from tabadol.domain.model import Collection, Principal
from tabadol.domain.timestamps import format_us
from tabadol.domain.tlp import TLP
from tabadol.node.node import Node
from tabadol.storage.contract import StatusRecord
from tabadol.text.extract import Indicator, extract
from tabadol.text.language import LANGUAGES, detect_language
from tabadol.usecases.publishing.admission import SEALED_TLPS
from tabadol.usecases.publishing.derive import derived_objects
from tabadol.usecases.publishing.envelope import open_envelope
from tabadol.usecases.publishing.publish import authorize_write, publish_objects
from tabadol.usecases.publishing.signers import ORG_SIGNS
from tabadol.usecases.reading.read import list_collections

KINDS = ("report", "note")
MAX_TEXT_BYTES = 1024 * 1024  # a pasted text: 1 MiB of UTF-8
MAX_TITLE = 500
MAX_INDICATORS = 5000
_LINE_BREAKS = {"\n", "\r", "\t"}
_DIGITS = {0x06F0 + i: str(i) for i in range(10)} | {0x0660 + i: str(i) for i in range(10)}


class DraftRefused(InvalidInput):
    """A field of a draft the node cannot publish: `field` says which (a page words it)."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field


@dataclass(frozen=True, slots=True)
class Channel:
    """An audience a principal may write to, with the TLPs it allows."""

    collection: Collection
    tlps: tuple[TLP, ...]  # open to strict

    @property
    def sealed_tlps(self) -> tuple[TLP, ...]:
        """The TLPs an item here is sent with end-to-end encrypted."""
        return tuple(t for t in self.tlps if t in SEALED_TLPS)


@dataclass(frozen=True, slots=True)
class Draft:
    """What a person writes: plain fields, checked by `check_draft`."""

    kind: str
    title: str
    text: str
    channel: str  # the collection's TAXII id (or, from the CLI, its title)
    tlp: str  # a TLP level as typed: "amber", "TLP:AMBER+STRICT" …
    language: str = ""  # fa, ar, en; empty: detected from the text
    confidence: str = ""  # 0–100, any digits; empty: not said
    keep: frozenset[Indicator] | None = None  # None: every indicator found


@dataclass(frozen=True, slots=True)
class Checked:
    kind: str
    title: str
    text: str
    channel: Channel
    tlp: TLP
    language: str | None
    confidence: int | None
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True, slots=True)
class Published:
    """What was published: the report's (or note's) id, where, and how."""

    id: str
    channel: Collection
    tlp: TLP
    sealed: bool
    indicators: int
    status: StatusRecord


def writable_channels(node: Node, principal: Principal) -> list[Channel]:
    """The channels `principal` may publish into, each with the TLPs its audience allows
    (RED and AMBER+STRICT only in an org or group channel): none for a reader or a guest."""
    return [
        Channel(view.collection, tuple(t for t in TLP if tlp_allows(t, view.collection.kind)))
        for view in list_collections(node, principal)
        if view.can_write
    ]


def found_indicators(text: str) -> list[Indicator]:
    """The indicators a text holds, as a person triages them: refanged, deduplicated,
    checksum-invalid wallets left out (`text.extract`)."""
    return extract(text)


def ascii_digits(text: str) -> str:
    """`text` with Persian and Arabic-Indic digits as ASCII, for a field that must be a
    number."""
    return text.translate(_DIGITS).strip()


def _controls(text: str, allowed: set[str]) -> list[str]:
    return sorted(
        {f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cc"}
        - {f"U+{ord(ch):04X}" for ch in allowed}
    )


def _channel(channels: Sequence[Channel], ref: str) -> Channel:
    exact = [c for c in channels if c.collection.uuid == ref]
    named = exact or [c for c in channels if c.collection.title == ref]
    if len(named) != 1:
        raise DraftRefused("audience", "you may not publish to that audience")
    return named[0]


def _tlp(text: str, channel: Channel) -> TLP:
    try:
        tlp = TLP.parse(text)
    except UnknownTLP as exc:
        raise DraftRefused("tlp", exc.description) from None
    if tlp not in channel.tlps:
        allowed = ", ".join(t.label for t in channel.tlps)
        raise DraftRefused(
            "tlp",
            f"{tlp.label} may not be shared with the audience {channel.collection.title!r}"
            f" ({channel.collection.kind.value}): it allows {allowed}",
        )
    return tlp


def _confidence(text: str) -> int | None:
    digits = ascii_digits(text)
    if not digits:
        return None
    if not digits.isdigit() or not 0 <= int(digits) <= 100:
        raise DraftRefused("confidence", "the confidence is a whole number from 0 to 100")
    return int(digits)


def _language(given: str, text: str) -> str | None:
    code = given.strip().lower()
    if not code or code == "auto":
        return detect_language(text)
    if code not in LANGUAGES:
        raise DraftRefused("language", f"the language is one of {', '.join(LANGUAGES)}")
    return code


def _kept(text: str, keep: frozenset[Indicator] | None) -> tuple[Indicator, ...]:
    """The indicators of the text that were kept, in the text's order: only what the text
    holds (a value sent that is not in it is not published)."""
    found = found_indicators(text)
    kept = [i for i in found if keep is None or i in keep]
    if len(kept) > MAX_INDICATORS:
        raise DraftRefused(
            "text", f"{len(kept)} indicators kept: publish at most {MAX_INDICATORS} at once"
        )
    return tuple(kept)


def check_draft(node: Node, principal: Principal, draft: Draft) -> Checked:
    """The draft as it will be published, or DraftRefused naming the field (Forbidden for a
    principal who may publish nowhere)."""
    channels = writable_channels(node, principal)
    if not channels:
        raise Forbidden("you may read but not publish: your role or organization writes nothing")
    if draft.kind not in KINDS:
        raise DraftRefused("kind", "write a report or a note")
    title = draft.title.strip()
    text = draft.text.strip()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise DraftRefused("text", f"the text is longer than {MAX_TEXT_BYTES} bytes (1 MiB)")
    if not text:
        raise DraftRefused("text", "the text is empty")
    if draft.kind == "report" and not title:
        raise DraftRefused("title", "a report needs a title")
    if len(title) > MAX_TITLE:
        raise DraftRefused("title", f"the title is longer than {MAX_TITLE} characters")
    for name, value, allowed in (("title", title, set()), ("text", text, _LINE_BREAKS)):
        bad = _controls(value, allowed)
        if bad:
            raise DraftRefused(name, f"the {name} holds control characters: {', '.join(bad)}")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            raise DraftRefused(name, f"the {name} is not valid Unicode text")
    channel = _channel(channels, draft.channel)
    return Checked(
        kind=draft.kind,
        title=title,
        text=text,
        channel=channel,
        tlp=_tlp(draft.tlp, channel),
        language=_language(draft.language, f"{title}\n{text}"),
        confidence=_confidence(draft.confidence),
        indicators=_kept(text, draft.keep),
    )


def compose(checked: Checked, author: str, now_us: int) -> list[dict[str, Any]]:
    """The STIX objects of a checked draft: the report (or note) first, then each kept
    indicator and its relationship to it."""
    stamp = format_us(now_us)
    source: dict[str, Any] = {
        "type": checked.kind,
        "spec_version": "2.1",
        "id": f"{checked.kind}--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": author,
        "object_marking_refs": [checked.tlp.marking_id],
    }
    if checked.kind == "report":
        source |= {
            "name": checked.title,
            "description": checked.text,
            "report_types": ["threat-report"],
            "published": stamp,
        }
    else:
        source |= {
            "content": checked.text,
            **({"abstract": checked.title} if checked.title else {}),
        }
    if checked.language:
        source["lang"] = checked.language
    if checked.confidence is not None:
        source["confidence"] = checked.confidence
    derived = [obj for i in checked.indicators for obj in derived_objects(source, i, stamp, author)]
    # the report lists what it names; with nothing kept, its author (object_refs is required)
    named = [obj["id"] for obj in derived if obj["type"] != "relationship"]
    source["object_refs"] = named or [author]
    return [source, *derived]


def _check_publishable(node: Node, principal: Principal, checked: Checked) -> None:
    """What would refuse the envelope's objects, checked before anything is written: the
    node signs only for an org whose keys it holds, and seals only to an audience whose
    every org has a current encryption key."""
    assert principal.org is not None
    if principal.org.custody is not Custody.NODE:
        raise Refused(
            f"{principal.org.name!r} keeps its own keys: the node cannot sign for it"
            " (write the STIX and publish it with `tabadol publish`)"
        )
    collection = checked.channel.collection
    authorize_write(node, principal, collection)
    if checked.tlp in SEALED_TLPS:
        orgs = node.store.list_orgs()
        open_envelope(node, principal.org, collection, [], orgs, ORG_SIGNS).recipients()


def publish_draft(
    node: Node, principal: Principal, draft: Draft, *, actor: str | None = None
) -> Published:
    """Check, compose and publish a draft as one envelope; nothing is stored when any
    part of it would be refused."""
    checked = check_draft(node, principal, draft)
    _check_publishable(node, principal, checked)
    assert principal.org is not None
    objects = compose(checked, principal.org.identity_id, node.clock())
    status = publish_objects(node, principal, checked.channel.collection, objects, actor=actor)
    if status.failures:  # not expected after the checks above: say it, never hide it
        reasons = "; ".join(f"{i}: {r}" for i, _, r in status.failures[:3])
        raise Refused(f"the node refused part of the item: {reasons}")
    return Published(
        id=objects[0]["id"],
        channel=checked.channel.collection,
        tlp=checked.tlp,
        sealed=checked.tlp in SEALED_TLPS,
        indicators=len(checked.indicators),
        status=status,
    )


def indicators_named(pairs: Iterable[str]) -> frozenset[Indicator]:
    """Indicators from `type|value` strings (a triage form's kept checkboxes)."""
    kept = set()
    for pair in pairs:
        kind, sep, value = pair.partition("|")
        if sep:
            kept.add(Indicator(kind, value))
    return frozenset(kept)
