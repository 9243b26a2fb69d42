"""Pure domain rules: timestamps, TLP, strict JSON, the fast STIX checks on real data."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

from tabadol.domain import errors, strict_json
from tabadol.domain.audience import AudienceKind, tlp_allows
from tabadol.domain.errors import InvalidJSON, InvalidObject, TabadolError, TimestampError
from tabadol.domain.stix import check_object
from tabadol.domain.stix_rules import check_rules
from tabadol.domain.timestamps import format_date_added, format_us, parse_us
from tabadol.domain.tlp import TLP, strictest_tlp

from ..conftest import ICS_BUNDLE, MOBILE_BUNDLE, make_indicator, needs_attack_data


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.001Z", 1000),
        ("2026-01-01T00:00:00.123456789Z", 1_767_225_600_123_456),
        ("2000-02-29T12:00:00.5Z", 951_825_600_500_000),
    ],
)
def test_timestamps_parse_to_microseconds(text: str, micros: int) -> None:
    """RFC 3339 UTC timestamps parse exactly (digits past the sixth are dropped)."""
    assert parse_us(text) == micros


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00+00:00",
        "2026-13-01T00:00:00Z",
        "2026-01-01 00:00:00Z",
        "２０２６-01-01T00:00:00Z",
        20260101,
    ],
)
def test_bad_timestamps_are_refused(text: object) -> None:
    """Anything but `YYYY-MM-DDTHH:MM:SS[.s]Z` in ASCII digits is refused."""
    with pytest.raises(TimestampError):
        parse_us(text)


def test_rendering_round_trips() -> None:
    """Versions render with millisecond precision when exact; date_added always with six."""
    assert format_us(1000) == "1970-01-01T00:00:00.001Z"
    assert format_us(1) == "1970-01-01T00:00:00.000001Z"
    assert format_date_added(1000) == "1970-01-01T00:00:00.001000Z"
    assert parse_us(format_date_added(123_456_789)) == 123_456_789


def test_tlp_bounds_the_audience() -> None:
    """RED and AMBER+STRICT need an org or group; only CLEAR may be public."""
    assert not tlp_allows(TLP.RED, AudienceKind.MEMBERS)
    assert not tlp_allows(TLP.AMBER_STRICT, AudienceKind.MEMBERS)
    assert tlp_allows(TLP.AMBER, AudienceKind.MEMBERS)
    assert not tlp_allows(TLP.GREEN, AudienceKind.PUBLIC)
    assert tlp_allows(TLP.CLEAR, AudienceKind.PUBLIC)
    assert tlp_allows(TLP.RED, AudienceKind.GROUP)


def test_strictest_marking_wins() -> None:
    """With several TLP markings the strictest counts; TLP 1.0 WHITE reads as CLEAR."""
    white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
    assert strictest_tlp([white]) is TLP.CLEAR
    assert strictest_tlp([TLP.GREEN.marking_id, TLP.RED.marking_id]) is TLP.RED
    assert strictest_tlp(["marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"]) is None
    assert TLP.parse("amber+strict") is TLP.AMBER_STRICT
    with pytest.raises(ValueError, match="unknown TLP"):
        TLP.parse("purple")


def test_strict_json_accepts_what_json_accepts() -> None:
    """Valid JSON decodes to the same value as the standard library gives."""
    text = json.dumps({"a": [1, 2.5, None, True, "تبادل"], "b": {"c": "\u200c"}})
    assert strict_json.loads(text.encode()) == json.loads(text)


def test_strict_json_names_the_duplicate_key() -> None:
    """The error names the duplicated key."""
    with pytest.raises(InvalidJSON, match="object_marking_refs"):
        strict_json.loads(b'{"object_marking_refs": [], "object_marking_refs": []}')


@needs_attack_data
@pytest.mark.parametrize("bundle", [ICS_BUNDLE, MOBILE_BUNDLE], ids=["ics", "mobile"])
def test_every_attack_object_passes_the_fast_checks(bundle) -> None:  # type: ignore[no-untyped-def]
    """Real ATT&CK content (custom x-mitre types and x_ properties) is accepted."""
    objects = json.loads(bundle.read_text())["objects"]
    checked = [check_object(o) for o in objects]
    for item in checked:
        check_rules(item.obj, item.type)  # and each type's value rules (issue 13, finding 5)
    assert len(checked) == len(objects)
    assert {c.type for c in checked} >= {"attack-pattern", "relationship", "x-mitre-tactic"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Indicator"}, "'type'"),
        ({"type": "in"}, "'type'"),
        ({"id": "indicator--not-a-uuid"}, "'id'"),
        ({"spec_version": "2.0"}, "spec_version"),
        ({"created": "2026-01-01"}, "'created'"),
        ({"modified": "2025-01-01T00:00:00Z"}, "earlier"),
        ({"valid_from": "soon"}, "'valid_from'"),
        ({"sample_refs": "x"}, "'sample_refs'"),
        ({"created_by_ref": "identity--x"}, "'created_by_ref'"),
        ({"revoked": "no"}, "'revoked'"),
        ({"confidence": True}, "'confidence'"),
    ],
)
def test_check_object_reasons(change: dict, reason: str) -> None:
    """Each broken rule is refused with a reason naming the property."""
    with pytest.raises(InvalidObject, match=reason):
        check_object(make_indicator(**change))


def test_sco_without_timestamps_is_accepted() -> None:
    """Cyber observables have no created/modified; spec_version defaults to 2.1."""
    checked = check_object(
        {
            "type": "ipv4-addr",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "198.51.100.3",
        }
    )
    assert checked.version_us is None
    assert checked.spec_version == "2.1"


@pytest.mark.parametrize("value", [[], {}, ["identity--x"], 7, None], ids=repr)
def test_reference_of_the_wrong_json_type_is_refused(value: object) -> None:
    """A _ref holding a list, object, number or null is refused, not a crash."""
    with pytest.raises(InvalidObject, match="'sighting_of_ref'"):
        check_object(make_indicator(sighting_of_ref=value))


def test_every_error_is_drawn_in_the_tree_with_its_status() -> None:
    """The drawing in `domain.errors` names each error of the tree with its HTTP status."""
    drawing = errors.__doc__ or ""
    tree = [e for e in vars(errors).values() if isinstance(e, type) and issubclass(e, TabadolError)]
    assert len(tree) > 30
    for error in tree:
        line = next((ln for ln in drawing.splitlines() if f" {error.__name__} " in ln), "")
        assert str(error.http_status) in line.split(), error.__name__


def test_a_parser_error_is_also_a_value_error() -> None:
    """Callers that catch ValueError around a parser keep catching its tree error."""
    with pytest.raises(ValueError, match="not an RFC 3339"):
        parse_us("yesterday")
    with pytest.raises(errors.BadRequest):
        parse_us("yesterday")


_SRC = Path(__file__).resolve().parents[2] / "src" / "tabadol"
_PROCESS_EXITS = {"Exit", "fail", "SystemExit"}  # the CLI ends the process: not an error
_NOT_YET_IN_THE_TREE: dict[str, set[str]] = {}  # modules not yet moved into the tree: keep empty


def _raised_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _in_the_tree(name: str) -> bool:
    """Whether the class `name`, defined somewhere in the package, derives from TabadolError."""
    for path in _SRC.rglob("*.py"):
        if f"class {name}(" in path.read_text():
            module = ".".join(("tabadol", *path.relative_to(_SRC).with_suffix("").parts))
            error = getattr(importlib.import_module(module), name)
            return isinstance(error, type) and issubclass(error, TabadolError)
    return False


def test_every_error_raised_on_purpose_is_in_the_tree() -> None:
    """A `raise SomeError(...)` anywhere in the code names an error of the tree."""
    outside = {}
    for path in sorted(_SRC.rglob("*.py")):
        where = path.relative_to(_SRC).as_posix()
        allowed = _PROCESS_EXITS | _NOT_YET_IN_THE_TREE.get(where, set())
        if stray := {n for n in _raised_names(path) - allowed if not _in_the_tree(n)}:
            outside[where] = stray
    assert outside == {}
