"""`POST /api/v1/reports`: a report or a note from plain fields, as the person in the
browser writes one (`usecases.publishing.authoring`): no STIX by hand. The CLI's
`tabadol report new --url --token` calls it."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tabadol.text.extract import TYPES, Indicator
from tabadol.usecases.publishing import authoring
from tabadol.web import auth
from tabadol.web.api import Caller

router = APIRouter(prefix="/api/v1", tags=["native API"])


class IndicatorIn(BaseModel):
    type: str = Field(max_length=10, description=f"One of {', '.join(TYPES)}.")
    value: str = Field(max_length=2048, description="Refanged, as the triage lists it.")


class ReportIn(BaseModel):
    kind: Literal["report", "note"] = "report"
    title: str = Field(
        default="", max_length=authoring.MAX_TITLE, description="A report needs one."
    )
    text: str = Field(
        min_length=1,
        max_length=authoring.MAX_TEXT_BYTES,
        description="Persian, Arabic or English; at most 1 MiB of UTF-8.",
    )
    to: str = Field(
        min_length=1, max_length=300, description="The audience channel: a collection id or title."
    )
    tlp: str = Field(max_length=40, description="clear, green, amber, amber+strict or red.")
    language: Literal["", "fa", "ar", "en"] = Field(default="", description="Empty: detected.")
    confidence: int | None = Field(default=None, ge=0, le=100)
    extract: bool = Field(
        default=False, description="Keep every indicator found in the text (refanged, validated)."
    )
    indicators: list[IndicatorIn] = Field(
        default_factory=list,
        max_length=authoring.MAX_INDICATORS,
        description="Without `extract`: the indicators of the text to keep (others are dropped;"
        " a value the text does not hold is never published).",
    )


class ReportOut(BaseModel):
    id: str = Field(description="The report's (or note's) STIX id.")
    collection: str = Field(description="The TAXII collection it was published into.")
    tlp: str
    sealed: bool = Field(description="End-to-end encrypted to the audience (RED, AMBER+STRICT).")
    indicators: int = Field(description="Indicators published with it, each linked to it.")
    status: str = Field(description="The TAXII status of the envelope.")


@router.post("/reports", response_model=ReportOut, status_code=201)
def new_report(request: Request, principal: Caller, body: ReportIn) -> ReportOut:
    """Publish a report or a note — with the indicators kept of those in its text, each
    linked to it — as one envelope into the channel `to`, signed by the node for an org
    whose keys it holds, sealed end to end at RED and AMBER+STRICT."""
    keep = None if body.extract else frozenset(Indicator(i.type, i.value) for i in body.indicators)
    draft = authoring.Draft(
        kind=body.kind,
        title=body.title,
        text=body.text,
        channel=body.to,
        tlp=body.tlp,
        language=body.language,
        confidence="" if body.confidence is None else str(body.confidence),
        keep=keep,
    )
    published = authoring.publish_draft(auth.node_of(request), principal, draft)
    return ReportOut(
        id=published.id,
        collection=published.channel.uuid,
        tlp=published.tlp.label,
        sealed=published.sealed,
        indicators=published.indicators,
        status=published.status.uuid,
    )
