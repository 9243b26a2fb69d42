"""The structured search query and its two renderings: FTS5 MATCH syntax on SQLite,
`to_tsquery('simple', …)` text on PostgreSQL. The known answers are what the engines received
when the use case still wrote an FTS5 string and PostgreSQL parsed it back."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from tabadol.domain.errors import InvalidFilter
from tabadol.storage.postgres.dialect import tsquery_of
from tabadol.storage.search_query import SearchQuery
from tabadol.storage.sqlite.store import fts5_match
from tabadol.text.normalize import tokenize
from tabadol.usecases.reading.search import search_query

from ..pg import database_url


@pytest.mark.parametrize(
    ("words", "fts5", "tsquery"),
    [
        ("Phishing", '({body stems} : "phishing")', "('phishing')"),
        (
            "حملات",
            '({body stems} : "حملات" OR {body stems} : "حمله" OR {body stems} : "حمل")',
            "('حملات' | 'حمله' | 'حمل')",
        ),
        (
            "باج\u200cافزار",
            '({body stems} : "باجافزار" OR {body stems} : "باج افزار")',
            "('باجافزار' | 'باج' <-> 'افزار')",
        ),
        (
            "علی ۷۰۰ الكتاب",
            '({body stems} : "علی") AND ({body stems} : "700")'
            ' AND ({body stems} : "الکتاب" OR {body stems} : "کتاب")',
            "('علی') & ('700') & ('الکتاب' | 'کتاب')",
        ),
    ],
    ids=["one term", "a term with its stems", "a compound as a phrase", "several terms"],
)
def test_both_engines_render_what_they_received_before(words: str, fts5: str, tsquery: str) -> None:
    """Every token is a term (AND), its forms alternatives (OR), a compound's parts a phrase."""
    query = search_query(tokenize(words))
    assert fts5_match(query) == fts5
    assert tsquery_of(query) == tsquery


QUOTED = SearchQuery(((("it's",), ('say"s',), ("a\\b",), ("x:*", "&")),))


def test_quotes_in_tokens_stay_inside_their_strings() -> None:
    """A quote, apostrophe, backslash or operator in a token is text, never syntax: FTS5 doubles
    a double quote; tsquery doubles an apostrophe and escapes a backslash."""
    assert fts5_match(QUOTED) == (
        '({body stems} : "it\'s" OR {body stems} : "say""s"'
        ' OR {body stems} : "a\\b" OR {body stems} : "x:* &")'
    )
    assert tsquery_of(QUOTED) == "('it''s' | 'say\"s' | 'a\\\\b' | 'x:*' <-> '&')"


def test_fts5_reads_the_rendering_as_strings() -> None:
    """SQLite's FTS5, with the index's tokenizer, parses the rendering and matches the words
    inside the quotes as a phrase."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        "body, stems, tokenize = 'unicode61 remove_diacritics 0')"
    )
    db.execute("INSERT INTO search_index VALUES ('she says it s so', '')")
    match = "SELECT count(*) FROM search_index WHERE search_index MATCH ?"
    assert db.execute(match, (fts5_match(QUOTED),)).fetchone() == (1,)
    other = SearchQuery(((('say"t',),),))
    assert db.execute(match, (fts5_match(other),)).fetchone() == (0,)


def test_postgres_reads_the_rendering_as_lexemes() -> None:
    """PostgreSQL parses the rendering: quoted tokens are lexemes (a prefix `:*` or an `&`
    inside quotes is no operator), a phrase is `<->`."""
    with psycopg.connect(database_url()) as conn:
        row = conn.execute(
            "SELECT to_tsquery('simple', %s)::text,"
            " to_tsvector('simple', 'she says it s so') @@ to_tsquery('simple', %s)",
            (tsquery_of(QUOTED), tsquery_of(QUOTED)),
        ).fetchone()
    assert row == ("'it' <-> 's' | 'say' <-> 's' | 'a' <-> 'b' | 'x'", True)


@pytest.mark.parametrize(
    "terms",
    [(), ((),), (((),),), ((("",),),), ((("two words",),),)],
    ids=["no term", "a term without forms", "an empty phrase", "an empty token", "a spaced token"],
)
def test_a_query_that_could_mean_nothing_is_refused(
    terms: tuple[tuple[tuple[str, ...], ...], ...],
) -> None:
    """What one engine would read as nothing and another as a syntax error is refused, as an
    invalid search, before either sees it."""
    with pytest.raises(InvalidFilter, match="the search expression is not valid"):
        SearchQuery(terms)
