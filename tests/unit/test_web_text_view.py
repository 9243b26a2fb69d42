"""Members' text as the pages show it (`web.text_view`): escaped, bidi controls shown as
markers and never obeyed, indicators inside right-to-left prose isolated left to right."""

from __future__ import annotations

from tabadol.web.text_view import isolated, prose, shown, when

RLO = "\u202e"


def test_text_is_escaped_and_bidi_controls_are_shown_not_obeyed() -> None:
    out = str(shown(f'<script>alert("x")</script> exe{RLO}gpj.scr'))
    assert "<script>" not in out
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in out
    assert RLO not in out
    assert '<span class="bidi-control" title="RIGHT-TO-LEFT OVERRIDE">U+202E</span>' in out
    for control in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069":
        assert control not in str(shown(f"a{control}b"))
    assert "\u200c" in str(shown("می\u200cشود"))  # ZWNJ is spelling, not a control


def test_indicators_in_persian_prose_are_isolated_left_to_right() -> None:
    text = "سرور در ۱۹۲.۰.۲.۱ و evil.example/path، هش " + "a" * 64 + " دیده شد."
    out = str(prose(text))
    assert '<bdi dir="ltr" class="ioc">۱۹۲.۰.۲.۱</bdi>' in out
    assert '<bdi dir="ltr" class="ioc">evil.example/path</bdi>،' in out  # comma left outside
    assert f'<bdi dir="ltr" class="ioc">{"a" * 64}</bdi>' in out
    assert "<bdi" not in str(prose("سرور فرمان دیده شد."))  # no indicator, no isolation
    assert "<bdi" not in str(prose("گزارش.پایانی"))  # right-to-left letters: not an indicator
    hostile = str(prose(f"<img src=x onerror=alert(1)>{RLO}.example"))
    assert "<img" not in hostile
    assert RLO not in hostile


def test_a_whole_value_is_isolated_and_times_are_utc() -> None:
    assert str(isolated("<b>")) == '<bdi dir="ltr" class="ioc">&lt;b&gt;</bdi>'
    assert when(1_767_225_600_000_000) == "2026-01-01 00:00 UTC"
    assert when(None) == ""
