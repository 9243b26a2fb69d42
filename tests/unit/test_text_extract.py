"""Indicator extraction on a labeled set of Persian, Arabic and English text.

`tests/data/extraction_cases.tsv`: text, the indicators it holds (`type:value`, canonical),
why, and a category. Precision and recall are counted over (case, indicator) pairs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.text.extract import TYPES, extract

CASES = Path(__file__).parents[1] / "data" / "extraction_cases.tsv"
# Written by someone who had not seen the extractor, with every checksum computed anew; it
# found that witness-v1 addresses were checked with bech32 instead of bech32m (BIP 350).
INDEPENDENT = Path(__file__).parents[1] / "data" / "extraction_cases_independent.tsv"


def _cases(path: Path = CASES) -> list[tuple[str, set[str], str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        text, expected, why, *category = line.split("\t")
        rows.append((text, set(expected.split()), why, category[0] if category else ""))
    return rows


def found(text: str) -> set[str]:
    return {f"{i.type}:{i.value}" for i in extract(text)}


def test_the_labeled_set_is_large_with_negatives() -> None:
    """At least 150 cases, covering every type, with negatives."""
    cases = _cases()
    assert len(cases) >= 150
    assert sum(1 for _, expected, _, _ in cases if not expected) >= 40
    covered = {item.split(":", 1)[0] for _, expected, _, _ in cases for item in expected}
    assert covered == set(TYPES)


@pytest.mark.parametrize(
    ("text", "expected", "why", "category"), _cases(), ids=lambda v: str(v)[:40]
)
def test_labeled_case(text: str, expected: set[str], why: str, category: str) -> None:
    """Each case yields exactly its labeled indicators."""
    assert found(text) == expected, why


@pytest.mark.parametrize(
    ("text", "expected", "why", "category"), _cases(INDEPENDENT), ids=lambda v: str(v)[:40]
)
def test_independent_case(text: str, expected: set[str], why: str, category: str) -> None:
    """The held-out cases: each yields exactly its labeled indicators."""
    assert found(text) == expected, why


def test_precision_recall_and_the_exact_categories() -> None:
    """Precision and recall ≥ 0.97 overall; 100 % on the checksum and defanging cases."""
    tp = fp = fn = 0
    for text, expected, _, category in _cases():
        got = found(text)
        if category in ("checksum", "defang"):
            assert got == expected, text
        tp += len(got & expected)
        fp += len(got - expected)
        fn += len(expected - got)
    assert tp / (tp + fp) >= 0.97
    assert tp / (tp + fn) >= 0.97


def test_private_ranges_on_request() -> None:
    """Private and documentation addresses are emitted only when asked for."""
    assert extract("host 10.0.0.5") == []
    assert [i.value for i in extract("host 10.0.0.5", allow_private=True)] == ["10.0.0.5"]


def test_cli_extract_prints_json_lines(tmp_path: Path) -> None:
    """`tabadol extract FILE` and stdin print one JSON object per line."""
    text = "سرور ۱۸۵.۲۲۰.۱۰۱.۴ و دامنه evil-update[.]com"
    source = tmp_path / "report.txt"
    source.write_text(text, encoding="utf-8")
    runner = CliRunner()
    from_file = runner.invoke(app, ["extract", str(source)])
    from_stdin = runner.invoke(app, ["extract"], input=text)
    for result in (from_file, from_stdin):
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert lines == [
            {"type": "ipv4", "value": "185.220.101.4"},
            {"type": "domain", "value": "evil-update.com"},
        ]
    missing = runner.invoke(app, ["extract", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1
    assert "nope.txt" in missing.stderr
