"""The commands the demo's banner suggests: each runs as printed (a test runs them), so
they carry the real token, and words outside ASCII travel URL-encoded (`curl -G
--data-urlencode`): raw Persian in a URL is not valid HTTP, and the server refuses it."""

from __future__ import annotations

SEARCH_WORD = "فیشینگ"  # "phishing": Pardis's Persian report, found on every node


def search_example(base: str, token: str, words: str = SEARCH_WORD) -> str:
    return (
        f'curl -sS -G -H "Authorization: Bearer {token}"'
        f' --data-urlencode "q={words}" "{base}/api/v1/search"'
    )


def collections_example(base: str, token: str) -> str:
    return (
        f'curl -sS -H "Authorization: Bearer {token}"'
        f' -H "Accept: application/taxii+json;version=2.1" "{base}/taxii2/root/collections/"'
    )
