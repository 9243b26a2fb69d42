"""The pages people use in a browser (server-rendered, `web.templating`): signing in and
out, enrolment, the account, writing, reading (the inbox and an item's page)."""

from __future__ import annotations

from fastapi import APIRouter

from tabadol.web import (
    account_factors,
    account_pages,
    enrol_pages,
    sign_in_pages,
    workspace_pages,
    write_pages,
)

router = APIRouter(include_in_schema=False)
for _module in (
    sign_in_pages,
    enrol_pages,
    account_pages,
    account_factors,
    write_pages,
    workspace_pages,
):
    router.include_router(_module.router)
