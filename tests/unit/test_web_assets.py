"""What the interface is made of, held by tests: the files of others match their recorded
digests, the stylesheets use logical properties only and name only files the node serves,
and every interface string has its Persian and Arabic translation."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tabadol.web import i18n
from tabadol.web.assets import STATIC, SWAGGER_UI, assets
from tabadol.web.i18n import LANGUAGES, from_accept_language, known, po_path

ROOT = Path(__file__).resolve().parents[2]
RECORD = STATIC / "THIRD_PARTY.md"
_ROW = re.compile(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", re.M)
# a physical direction in a property name or a value (margin-left, float: right, left: 0 …)
_PHYSICAL = re.compile(r"\b(left|right)\b", re.I)


def test_the_files_of_others_are_the_recorded_ones() -> None:
    """Each file listed in static/THIRD_PARTY.md is served with exactly the recorded bytes
    (the font committed here, Swagger UI from its pinned package)."""
    rows = _ROW.findall(RECORD.read_text())
    assert {name for name, _ in rows} >= {
        "fonts/Vazirmatn-wght.woff2",
        f"{SWAGGER_UI}swagger-ui-bundle.js",
        f"{SWAGGER_UI}swagger-ui.css",
    }
    served = assets().by_name
    for name, digest in rows:
        assert hashlib.sha256(served[name].body).hexdigest() == digest, name


def _our_stylesheets() -> list[Path]:
    return sorted(STATIC.rglob("*.css"))


@pytest.mark.parametrize("sheet", _our_stylesheets(), ids=lambda p: p.name)
def test_stylesheets_use_logical_properties_only(sheet: Path) -> None:
    """No `left`/`right` anywhere in a rule (comments aside): one stylesheet must lay out
    right-to-left and left-to-right pages alike."""
    rules = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
    assert _PHYSICAL.findall(rules) == []


def test_the_stylesheet_check_finds_a_physical_property() -> None:
    assert _PHYSICAL.search("a { margin-left: 1rem }")
    assert _PHYSICAL.search("a { float: right }")
    assert not _PHYSICAL.search("a { margin-inline-start: 1rem; text-align: start }")


def test_stylesheets_name_the_served_files_by_hashed_url() -> None:
    """Every `url()` of a stylesheet is rewritten to a file the node serves."""
    for name, asset in assets().by_name.items():
        if not name.endswith(".css") or name.startswith(SWAGGER_UI):
            continue
        urls = re.findall(r'url\("([^"]+)"\)', asset.body.decode())
        assert urls or name != "css/base.css", name  # the base sheet names its font
        for url in urls:
            assert url.removeprefix("/static/") in assets().by_path, url


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT / "src"), method_map, options_map)
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_interface_string_is_in_each_catalogue(lang: str) -> None:
    """The strings the templates and code use are those of each catalogue (`make messages`
    after changing them), and Persian and Arabic translate every one."""
    with po_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang)
    ids = {message.id for message in catalog if message.id}
    assert ids == _extracted()
    if lang != "en":
        assert [m.id for m in catalog if m.id and not m.string] == []
    assert not any(message.fuzzy for message in catalog if message.id)


def test_a_catalogue_is_compiled_in_memory() -> None:
    assert i18n.translations("fa").gettext("Sign in") == "ورود"
    assert i18n.translations("ar").gettext("Sign in") == "تسجيل الدخول"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fa-IR,fa;q=0.9,en;q=0.8", "fa"),
        ("ar-IQ", "ar"),
        ("de-DE,de;q=0.9,en;q=0.5,ar;q=0.7", "ar"),
        ("en;q=0.2, fa;q=0.1", "en"),
        ("fa;q=0, en;q=0.1", "en"),
        ("de, fr", None),
        ("", None),
        ("fa;q=abc, ar", "ar"),
        (";;,,=", None),
    ],
)
def test_accept_language(header: str, lang: str | None) -> None:
    assert from_accept_language(header) == lang


def test_known_language_tags() -> None:
    assert [known(t) for t in ("fa-IR", "AR", "en_GB", "fas", "", None)] == [
        "fa",
        "ar",
        "en",
        None,
        None,
        None,
    ]
