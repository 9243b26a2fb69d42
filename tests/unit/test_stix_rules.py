"""The fast path of pattern checking never accepts what stix2-patterns refuses."""

from __future__ import annotations

import pytest
from stix2patterns.validator import run_validator

from tabadol.domain.stix_rules import _SIMPLE_PATTERN, stix_pattern

PATTERNS = [
    "[ipv4-addr:value = '198.51.100.7']",
    "[x-crypto-wallet:address = '18ZaVcAT9uahY1jsgF4MQSE7TiZrCjgR3v']",
    "[url:value = 'http://example.org/a\\'b']",
    "[url:value = 'ends with a backslash\\\\']",
    "[file:name = 'a\\b']",
    "[file:name = 'a'']",
    "[file:hashes.MD5 = 'not a hash']",
    "[file:hashes.'SHA-256' = 'abc']",
    "[domain-name:value = 'کرمان.ir']",
    "[url:value = 'two\nlines']",
    "[ipv4-addr:value = '198.51.100.7'",
    "[_x:value = 'a']",
    "[a-:value = 'a']",
    "[email-message:from_ref.value = 'a@example.org']",
    "[ipv4-addr:value = '']",
    "[process:pid = 'x']",
]


@pytest.mark.parametrize("pattern", PATTERNS, ids=repr)
def test_the_fast_path_agrees_with_stix2_patterns(pattern: str) -> None:
    """A pattern the one-comparison form accepts parses; the verdict is stix2-patterns'."""
    valid = not run_validator(pattern, stix_version="2.1")
    if _SIMPLE_PATTERN.match(pattern):
        assert valid
    refusal = stix_pattern({"pattern": pattern, "pattern_type": "stix"})
    assert (refusal is None) == valid, refusal
