"""A full-text search as the storage contract receives it: structure, not syntax.

The use case builds it from the normalized tokens of the words asked for; each engine renders
it in its own language (FTS5 MATCH on SQLite, `to_tsquery('simple', …)` on PostgreSQL), so no
engine ever parses another's search syntax back.

    SearchQuery     every term must be found (AND)
     └── Term       any one of its forms will do (OR): the word, its stems, its parts
          └── Phrase  tokens that must follow one another, in order
"""

from __future__ import annotations

from dataclasses import dataclass

from tabadol.domain.errors import InvalidFilter

Phrase = tuple[str, ...]
Term = tuple[Phrase, ...]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The terms of a search, all required; each an ordered tuple of alternative phrases (the
    order is kept so that an engine renders the same query the same way every time)."""

    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        # An empty term, phrase or token would match nothing on one engine and everything on
        # another, or be a syntax error: refused here, for both, with one message.
        if not self.terms:
            raise InvalidFilter("the search expression is not valid: it has no term")
        for term in self.terms:
            if not term:
                raise InvalidFilter("the search expression is not valid: a term has no form")
            for phrase in term:
                if not phrase:
                    raise InvalidFilter("the search expression is not valid: an empty form")
                for token in phrase:
                    if token.split() != [token]:  # empty, or white space inside
                        raise InvalidFilter(
                            f"the search expression is not valid: {token!r} is not a token"
                        )
