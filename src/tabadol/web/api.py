"""The native JSON API (/api/v1): the directory (orgs, tokens, groups) and whoami.

Documented by the OpenAPI schema at /api/v1/openapi.json. Errors use the same body as TAXII.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from tabadol.domain.keys import Custody
from tabadol.domain.model import Group, Org, Principal, Token
from tabadol.domain.timestamps import format_us
from tabadol.node.node import Node
from tabadol.usecases.membership import (
    api_tokens,
    lookup,
    organizations,
    sharing_groups,
)
from tabadol.web import auth

router = APIRouter(prefix="/api/v1", tags=["native API"])
# A name or a reason: no control character, and something besides spaces (what the use cases
# check, said in the schema, so that a request the schema allows is not refused as malformed).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
# The schema also says that a name holds no bidi control (text/names.py refuses them: a name
# reads as typed); the use case, not the model, refuses those, naming the code points found.
_NOT = r"\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
SCHEMA_TEXT: JsonDict = {"pattern": rf"^[^{_NOT}]*[^\s{_NOT}][^{_NOT}]*$"}
# A row id in a path: what the database can hold (a larger one is a 400, not an overflow).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Free text that may be empty (a label, a person's name): the schema says it holds no control
# and no bidi control character; `names.check_text` refuses them, naming the code points.
FREE_TEXT = rf"^[^{_NOT}]*$"
_bearer = HTTPBearer(auto_error=False, description="A token from `tabadol token create`.")


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated principal (a bearer token, or a signed-in person's session cookie
    with the CSRF header on a state-changing request: `web.auth`); no anonymous access."""
    return auth.api_principal(request)


Caller = Annotated[Principal, Depends(caller)]


class OrgOut(BaseModel):
    name: str
    identity_id: str = Field(description="The STIX identity object of the organization.")
    member: bool = Field(description="False for a guest organization (reads public only).")
    created: str

    @classmethod
    def of(cls, org: Org) -> OrgOut:
        return cls(
            name=org.name,
            identity_id=org.identity_id,
            member=org.member,
            created=format_us(org.created),
        )


class OrgIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, pattern=TEXT_PATTERN, json_schema_extra=SCHEMA_TEXT
    )
    member: bool = True
    custody: Custody = Field(
        default=Custody.NODE,
        description="node: the node holds the org's private keys (wrapped); client: the org"
        " keeps them and registers its public keys.",
    )
    public_keys: dict[str, str] | None = Field(
        default=None, description='Client custody: {"sign": b64url, "encrypt": b64url}.'
    )


class TokenOut(BaseModel):
    id: int
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    org: str | None
    role: str
    label: str
    created: str
    revoked: str | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret. Shown once: it is stored hashed.")


_BREAK_GLASS = Field(
    default=None,
    max_length=500,
    description="The node operator acting for an org that has its own admins: the reason of"
    " this break-glass step, recorded and shown to those admins (refused without one).",
)


class TokenIn(BaseModel):
    role: Literal["admin", "publisher", "reader"] = "publisher"
    label: str = Field(default="", max_length=200, json_schema_extra={"pattern": FREE_TEXT})
    break_glass: str | None = _BREAK_GLASS


class GroupOut(BaseModel):
    name: str
    id: str
    owners: list[str]
    members: list[str]
    created: str


class GroupIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, pattern=TEXT_PATTERN, json_schema_extra=SCHEMA_TEXT
    )
    owner: str = Field(description="The organization that owns the group.")
    break_glass: str | None = _BREAK_GLASS


class MemberIn(BaseModel):
    org: str
    owner: bool = False
    break_glass: str | None = _BREAK_GLASS


class WhoAmI(BaseModel):
    kind: str
    org: str | None
    identity_id: str | None = Field(default=None, description="The org's STIX identity.")
    role: str | None
    groups: list[str]


def _token_out(names: dict[int, str], token: Token) -> dict[str, object]:
    return {
        "id": token.id,
        "prefix": token.prefix,
        "org": names.get(token.org_id) if token.org_id is not None else None,
        "role": token.role,
        "label": token.label,
        "created": format_us(token.created),
        "revoked": format_us(token.revoked) if token.revoked is not None else None,
    }


def _group_out(node: Node, group: Group) -> GroupOut:
    names = lookup.org_names(node)
    return GroupOut(
        name=group.name,
        id=group.uuid,
        owners=sorted(names[o] for o in group.owners),
        members=sorted(names[m] for m in group.members),
        created=format_us(group.created),
    )


@router.get("/whoami", response_model=WhoAmI)
def whoami(request: Request, principal: Caller) -> WhoAmI:
    """Who the token belongs to, and the groups it reads."""
    groups = sharing_groups.groups_read_by(_node(request), principal)
    return WhoAmI(
        kind=principal.kind.value,
        org=principal.org.name if principal.org else None,
        identity_id=principal.org.identity_id if principal.org else None,
        role=principal.role.value if principal.role else None,
        groups=[g.name for g in groups],
    )


@router.get("/orgs", response_model=list[OrgOut])
def list_orgs(request: Request, principal: Caller) -> list[OrgOut]:
    """The member directory: visible to members and to the operator."""
    return [OrgOut.of(o) for o in organizations.list_orgs(_node(request), principal)]


@router.post("/orgs", response_model=OrgOut, status_code=201)
def add_org(request: Request, principal: Caller, body: OrgIn) -> OrgOut:
    """Add an organization (the node's operator only)."""
    org = organizations.add_org(
        _node(request),
        body.name,
        member=body.member,
        custody=body.custody,
        public_keys=body.public_keys,
        actor=principal,
    )
    return OrgOut.of(org)


@router.get("/orgs/{org}/tokens", response_model=list[TokenOut])
def list_tokens(request: Request, principal: Caller, org: str) -> list[dict[str, object]]:
    node = _node(request)
    tokens = api_tokens.list_tokens(node, principal, org)
    names = lookup.org_names(node)
    return [_token_out(names, t) for t in tokens]


@router.post("/orgs/{org}/tokens", response_model=TokenCreated, status_code=201)
def create_token(request: Request, principal: Caller, org: str, body: TokenIn) -> dict[str, object]:
    """Create a token for `org`: its admins and the operator may. The secret is shown once."""
    node = _node(request)
    token, secret = api_tokens.create_token(
        node, principal, org, body.role, body.label, break_glass=body.break_glass
    )
    return {**_token_out(lookup.org_names(node), token), "token": secret}


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(request: Request, principal: Caller, token_id: RowId) -> dict[str, object]:
    node = _node(request)
    revoked = api_tokens.revoke_token(node, principal, token_id)
    return _token_out(lookup.org_names(node), revoked)


@router.get("/groups", response_model=list[GroupOut])
def list_groups(request: Request, principal: Caller) -> list[GroupOut]:
    """The groups the caller belongs to (all of them, for the operator)."""
    node = _node(request)
    return [_group_out(node, g) for g in sharing_groups.list_groups(node, principal)]


@router.post("/groups", response_model=GroupOut, status_code=201)
def create_group(request: Request, principal: Caller, body: GroupIn) -> GroupOut:
    node = _node(request)
    group = sharing_groups.create_group(
        node, principal, body.name, body.owner, break_glass=body.break_glass
    )
    return _group_out(node, group)


@router.post("/groups/{group}/members", response_model=GroupOut)
def add_member(request: Request, principal: Caller, group: str, body: MemberIn) -> GroupOut:
    """Add a member org to a group (`group`: its name or its id)."""
    node = _node(request)
    updated = sharing_groups.add_group_member(
        node, principal, group, body.org, owner=body.owner, break_glass=body.break_glass
    )
    return _group_out(node, updated)


@router.delete("/groups/{group}/members/{org}", response_model=GroupOut)
def remove_member(
    request: Request, principal: Caller, group: str, org: str, break_glass: str | None = None
) -> GroupOut:
    """Remove a member org from a group (`group`: its name or its id). `break_glass`: the
    operator's reason, when it acts for owners that have admins."""
    node = _node(request)
    updated = sharing_groups.remove_group_member(
        node, principal, group, org, break_glass=break_glass
    )
    return _group_out(node, updated)
