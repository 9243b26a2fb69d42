"""The native API's break-glass endpoints (/api/v1): the steps the operator took as an org
that has its own admins, shown to those admins until one of them acknowledges each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tabadol.domain.timestamps import format_us
from tabadol.usecases.membership import break_glass
from tabadol.web.api import Caller, _node

router = APIRouter(prefix="/api/v1", tags=["native API"])


class BreakGlassOut(BaseModel):
    entry: int = Field(description="Its audit log position: what acknowledging names.")
    at: str
    actor: str = Field(description="The operator, as the audit log names it.")
    act: str = Field(description="token.create, export, search, import, group.add-member …")
    reason: str
    detail: dict[str, object] = Field(description="e.g. the new token's role and prefix.")

    @classmethod
    def of(cls, step: break_glass.BreakGlass) -> BreakGlassOut:
        return cls(
            entry=step.position,
            at=format_us(step.at),
            actor=step.actor,
            act=step.act,
            reason=step.reason,
            detail=dict(step.detail),
        )


@router.get("/orgs/{org}/break-glass", response_model=list[BreakGlassOut])
def pending(request: Request, principal: Caller, org: str) -> list[BreakGlassOut]:
    """The break-glass steps taken as `org` not acknowledged yet: for its admins (and the
    operator). Any other caller gets the 404 of an org that does not exist."""
    steps = break_glass.pending(_node(request), principal, org)
    return [BreakGlassOut.of(step) for step in steps]


@router.post("/orgs/{org}/break-glass/{entry}/acknowledge", response_model=BreakGlassOut)
def acknowledge(request: Request, principal: Caller, org: str, entry: int) -> BreakGlassOut:
    """An admin of `org` has seen the step: it leaves the pending list (the log keeps it)."""
    return BreakGlassOut.of(break_glass.acknowledge(_node(request), principal, org, entry))
