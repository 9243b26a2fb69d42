"""The workspace's reading side in a real Chromium: the inbox and an item's page laid out
right to left in Persian and Arabic and left to right in English, indicators isolated left
to right inside Persian text, a Persian report found by an Arabic-spelled query, a hostile
name shown as text (no dialog, no element injected), all under the strict CSP (the
`open_page` fixture fails the test on any violation). Screenshots of both pages in the
three languages are written for a reviewer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ..conftest import LiveServer, free_port
from ..e2e.workspace_web import (
    GROUP,
    INSIDE,
    PARTNER,
    PASSWORD,
    PEOPLE,
    Workspace,
    indicator,
    make_workspace,
    report,
)
from .conftest import Watched

WAIT_MS = 20_000  # a bound on waiting for a page, never an assertion on its speed
LOCALES = {"fa": ("fa-IR", "rtl"), "ar": ("ar-IQ", "rtl"), "en": ("en-GB", "ltr")}
PERSIAN_NAME = "گزارش کمپین فیشینگ علیه بانک‌ها"
ARABIC_SPELLED = "كمپين"
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script> exe\u202egpj.scr"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, str, str]]:
    made = make_workspace(tmp_path_factory.mktemp("workspace-browser") / "node")
    server = LiveServer(made.path, free_port())
    server.start()
    made.url = server.url
    try:
        c2 = indicator("C2 192.0.2.44", "192.0.2.44")
        text = "سرور فرمان در ۱۹۲.۰.۲.۴۴ و evil.example/path دیده شد؛ نشانی 192.0.2.44 را ببندید."
        persian = report(PERSIAN_NAME, text, [str(c2["id"])])
        made.publish(INSIDE, GROUP, [c2, persian])
        hostile = report(HOSTILE, "<b>not bold</b> \u202eevil\u202c", [str(c2["id"])])
        made.publish(INSIDE, GROUP, [hostile])
        made.reader(PARTNER)  # enrolled
        yield made, str(persian["id"]), str(hostile["id"])
    finally:
        made.close()
        server.stop()


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/sign-in", wait_until="load", timeout=WAIT_MS)
    page.fill("#email", PEOPLE[PARTNER])
    page.fill("#password", PASSWORD)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("form[action='/sign-in'] button[type=submit]")
    assert page.url.endswith("/inbox")


def _computed(page: Page, selector: str, prop: str) -> str:
    value: str = page.eval_on_selector(
        selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')"
    )
    return value


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_inbox_and_item_right_to_left_first(
    workspace: tuple[Workspace, str, str],
    open_page: Callable[..., Watched],
    screenshot: Callable[[Page, str], Path],
    lang: str,
) -> None:
    made, persian_id, _ = workspace
    locale, direction = LOCALES[lang]
    page = open_page(locale).page
    _sign_in(page, made.url)
    assert page.get_attribute("html", "dir") == direction
    assert _computed(page, "body", "direction") == direction
    assert page.locator(f'#inbox tr[data-id="{persian_id}"]').count() == 1
    screenshot(page, f"inbox-{lang}")

    page.fill("#q", ARABIC_SPELLED)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#filters button[type=submit]")
    assert page.locator("#inbox tbody tr[data-id]").count() == 1
    assert page.locator(f'#inbox tr[data-id="{persian_id}"] mark').count() >= 1
    screenshot(page, f"search-{lang}")

    with page.expect_navigation(timeout=WAIT_MS):
        page.click(f'#inbox tr[data-id="{persian_id}"] a.item-name')
    assert _computed(page, "body", "direction") == direction
    assert _computed(page, "#text-description", "direction") == "rtl"  # dir=auto, Persian
    for value in ("۱۹۲.۰.۲.۴۴", "evil.example/path", "192.0.2.44"):
        ioc = f'#text-description bdi.ioc:text-is("{value}")'
        assert page.locator(ioc).count() == 1, value
        assert _computed(page, ioc, "direction") == "ltr"
        assert _computed(page, ioc, "unicode-bidi") == "isolate"
    screenshot(page, f"item-{lang}")
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#tab-provenance")
    assert page.locator("#signature .ok").count() == 1
    assert _computed(page, "#key-id", "direction") == "ltr"
    screenshot(page, f"item-provenance-{lang}")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=made.url)
    page.click("button.copy")
    page.wait_for_selector("button.copy[data-copied]", timeout=WAIT_MS)
    assert page.evaluate("navigator.clipboard.readText()") == page.inner_text("#key-id")


def test_a_hostile_name_renders_as_text(
    workspace: tuple[Workspace, str, str], open_page: Callable[..., Watched]
) -> None:
    made, _, hostile_id = workspace
    watched = open_page("en-GB")
    page = watched.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, made.url)
    row = f'#inbox tr[data-id="{hostile_id}"]'
    assert "<img src=x onerror=alert(1)>" in page.inner_text(row)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click(f"{row} a.item-name")
    assert "<script>alert(2)</script>" in page.inner_text("#item-name")
    assert "U+202E" in page.inner_text("#item-name")  # the override shown, not obeyed
    assert page.locator("main img, main script, main b").count() == 0
    assert "<b>not bold</b>" in page.inner_text("#text-description")
    assert dialogs == []
    watched.assert_clean()
