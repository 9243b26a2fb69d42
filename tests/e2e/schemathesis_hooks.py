"""schemathesis hooks for the run in test_openapi_truth: the fuzzer authenticates as an
admin of the org named by TABADOL_FUZZ_ORG, with a token made for it from the node's data
directory (TABADOL_DATA). The API lets an admin revoke its org's tokens, its own included,
and the fuzzer does: on a 401 schemathesis asks for credentials again and gets a new token,
so the run goes on testing rather than collecting 401s. A group's new member is an org that
exists (TABADOL_FUZZ_MEMBER), as the config's parameters name real ids: otherwise the 404 of
a made-up org reads, to the stateful phase, as the group just created gone missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis

from tabadol.node.node import open_node
from tabadol.usecases.membership import api_tokens
from tabadol.usecases.membership.principals import OPERATOR


@schemathesis.auth()
class FreshAdminToken:
    def get(self, case: Any, context: Any) -> str:
        with open_node(Path(os.environ["TABADOL_DATA"])) as node:
            _, secret = api_tokens.create_token(
                node,
                OPERATOR,
                os.environ["TABADOL_FUZZ_ORG"],
                "admin",
                "schemathesis",
                # the org has admins (the fuzzer's own earlier tokens): the operator minting
                # one for it is a break-glass step, recorded like any other
                break_glass="schemathesis: a fresh admin token for the fuzzer",
            )
        return secret

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook.apply_to(path="/api/v1/groups/{group}/members", method="POST")
def map_body(context: Any, body: Any) -> Any:
    """The member named is a real org, where the body names one as the schema has it (any
    string): a body generated to violate the schema (no `org`, or not a string) is left as
    it is, or the hook would make it valid and the node would rightly accept it."""
    if isinstance(body, dict) and isinstance(body.get("org"), str):
        return {**body, "org": os.environ["TABADOL_FUZZ_MEMBER"]}
    return body
