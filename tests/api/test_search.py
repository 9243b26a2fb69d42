"""Search over what a principal may read, through the native API, on a real SQLite index."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tabadol.cli.main import app
from tabadol.domain.tlp import TLP
from tabadol.text.normalize import tokenize

from ..conftest import BACKENDS, Community, make_indicator
from ..unit.test_text_normalize import INDEPENDENT, _cases


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run on SQLite and on PostgreSQL."""
    return str(request.param)


TAXII = "application/taxii+json;version=2.1"


def note(content: str, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": "2026-01-02T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "content": content,
        "object_refs": [f"indicator--{uuid.uuid4()}"],
    }
    obj.update(extra)
    return obj


def post(client: TestClient, com: Community, who: str, title: str, objects: list[Any]) -> None:
    url = f"/taxii2/root/collections/{com.collections[title]}/objects/"
    response = client.post(
        url, json={"objects": objects}, headers={**com.auth(who), "Content-Type": TAXII}
    )
    assert response.status_code == 202
    assert response.json()["failure_count"] == 0, response.json()


def search(client: TestClient, com: Community, who: str, **params: str) -> Any:
    response = client.get("/api/v1/search", params=params, headers=com.auth(who, "reader"))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("path", "least_recall"), [(None, 0.97), (INDEPENDENT, 0.95)])
def test_the_labeled_cases_hold_through_the_real_index(
    client: TestClient, community: Community, path: Any, least_recall: float
) -> None:
    """Every labeled query/document case (ours, and the held-out set), indexed by SQLite FTS5
    and searched through the API: the tokenizer's precision and recall hold there too."""
    cases = _cases(path) if path else _cases()
    ids: dict[str, str] = {}
    for _, document, _, _ in cases:
        if document not in ids:
            obj = note(document)
            ids[document] = obj["id"]
            post(client, community, "A", "members", [obj])
    tp = fp = fn = 0
    wrong = []
    for query, document, match, why in cases:
        if not tokenize(query):  # no word to search for (punctuation only): nothing matches
            got = False
        else:
            hits = search(client, community, "B", q=query, limit="100")["hits"]
            got = ids[document] in {h["object"]["id"] for h in hits}
        tp += got and match
        fp += got and not match
        fn += match and not got
        if got != match:
            wrong.append((query, document, why))
    assert tp / (tp + fp) >= 0.97, wrong
    assert tp / (tp + fn) >= least_recall, wrong


def test_search_follows_the_access_policy(client: TestClient, community: Community) -> None:
    """A group item is found by the group's members only; nobody learns of it otherwise."""
    marker = "گزارش‌ محرمانه کارگروه"
    post(client, community, "A", "AB group", [note(marker)])
    assert len(search(client, community, "B", q="محرمانه")["hits"]) == 1
    for outsider in ("C", "G"):
        body = search(client, community, outsider, q="محرمانه")
        assert body == {"hits": [], "more": False}
    operator = client.get(
        "/api/v1/search", params={"q": "محرمانه"}, headers=community.auth("operator")
    )
    assert operator.json()["hits"] == []


def test_sealed_items_are_not_indexed(client: TestClient, community: Community) -> None:
    """A RED item is stored sealed, so its words never reach the index."""
    post(
        client,
        community,
        "A",
        "AB group",
        [note("نشانی سرورهای آلوده", object_marking_refs=[TLP.RED.marking_id])],
    )
    assert search(client, community, "A", q="آلوده")["hits"] == []


def test_snippets_keep_the_original_spelling_and_direction(
    client: TestClient, community: Community
) -> None:
    """A Persian query finds Arabic spelling; the snippet shows the text as written, the match
    flagged, and says it is right-to-left."""
    post(client, community, "A", "members", [note("وصل علي إلى طهران ومعه ٧٠٠ ملف")])
    (hit,) = search(client, community, "B", q="علی ۷۰۰")["hits"]
    assert hit["direction"] == "rtl"
    matched = [s["text"] for s in hit["snippet"] if s["match"]]
    assert matched == ["علي", "٧٠٠"]
    assert "".join(s["text"] for s in hit["snippet"]) == "وصل علي إلى طهران ومعه ٧٠٠ ملف"


def test_filters_and_paging(client: TestClient, community: Community) -> None:
    """type, org and tlp narrow the hits; `next` walks the pages without repeats."""
    post(client, community, "A", "members", [note(f"phishing wave {i}") for i in range(5)])
    post(client, community, "B", "members", [make_indicator(name="phishing domain")])
    assert len(search(client, community, "C", q="phishing", type="indicator")["hits"]) == 1
    assert len(search(client, community, "C", q="phishing", org="Org B")["hits"]) == 1
    assert len(search(client, community, "C", q="phishing", tlp="GREEN")["hits"]) == 6
    seen: list[str] = []
    params = {"q": "phishing", "limit": "4"}
    for _ in range(3):
        page = search(client, community, "C", **params)
        seen += [h["object"]["id"] for h in page["hits"]]
        if not page["more"]:
            break
        params["next"] = page["next"]
    assert len(seen) == 6
    assert len(set(seen)) == 6


@pytest.mark.parametrize(
    "params",
    [
        {"q": "  "},
        {"q": "?!"},
        {"q": "x", "limit": "0"},
        {"q": "x", "next": "forged"},
        {"q": "x", "org": "Nobody"},
        {"q": "x", "limit": "+5"},
        {"q": "x", "limit": "5.0"},
        {"q": "x", "tlp": "purple"},
        {"q": "x", "added_after": "yesterday"},
    ],
    ids=[
        "blank",
        "no words",
        "zero limit",
        "forged next",
        "unknown org",
        "signed limit",
        "decimal limit",
        "unknown tlp",
        "bad bound",
    ],
)
def test_bad_searches_are_400(
    client: TestClient, community: Community, params: dict[str, str]
) -> None:
    """Malformed searches get a 400 in the TAXII error format."""
    response = client.get("/api/v1/search", params=params, headers=community.auth("A"))
    assert response.status_code == 400
    assert response.json()["http_status"] == "400"


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"q": "?!", "limit": "+5"}, "q must contain at least one word or number"),
        ({"q": "x", "limit": "+5", "tlp": "purple"}, "limit must be a positive integer"),
        ({"q": "x", "tlp": "purple"}, "tlp: unknown TLP level 'purple'"),
        ({"q": "x", "org": "Org B,Nobody"}, "no organization named 'Nobody'"),
        ({"q": "x", "added_before": "2026-01-01"}, "added_before: '2026-01-01' is not an RFC 3339"),
        ({"q": "x", "next": ""}, "next: not a token issued by this node"),
    ],
    ids=["words before limit", "limit before tlp", "tlp", "org", "bound", "empty next"],
)
def test_bad_searches_say_what_is_wrong(
    client: TestClient, community: Community, params: dict[str, str], description: str
) -> None:
    """The error names the first faulty parameter, words first and the limit next."""
    response = client.get("/api/v1/search", params=params, headers=community.auth("A"))
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid filter"
    assert body["description"].startswith(description)


def test_a_next_token_continues_only_the_search_that_issued_it(
    client: TestClient, community: Community
) -> None:
    """A token continues the same search however its lists are ordered, and is refused for a
    search with other words, filters or page size."""
    post(client, community, "A", "members", [note(f"phishing wave {i}") for i in range(5)])
    first = search(client, community, "C", q="phishing", type="note,indicator", limit="2")
    same = {"q": "phishing", "type": "indicator,note", "limit": "2", "next": first["next"]}
    assert len(search(client, community, "C", **same)["hits"]) == 2
    for other in ({"type": "note"}, {"limit": "3"}, {"q": "wave"}, {"tlp": "GREEN"}):
        response = client.get(
            "/api/v1/search", params={**same, **other}, headers=community.auth("C", "reader")
        )
        assert response.status_code == 400, other
        assert response.json()["description"] == (
            "next: the token belongs to a request with other filters"
        )


def test_new_versions_and_deletes_update_the_index(
    client: TestClient, community: Community
) -> None:
    """Only the latest version is found; a deleted object is not found."""
    first = note("نسخه نخست گزارش")
    post(client, community, "A", "members", [first])
    second = {**first, "modified": "2026-01-03T00:00:00.000Z", "content": "نسخه دوم گزارش"}
    post(client, community, "A", "members", [second])
    assert search(client, community, "B", q="نخست")["hits"] == []
    assert len(search(client, community, "B", q="دوم")["hits"]) == 1
    url = f"/taxii2/root/collections/{community.collections['members']}/objects/{first['id']}/"
    assert client.delete(url, headers=community.auth("A")).status_code == 200
    assert search(client, community, "B", q="گزارش")["hits"] == []


def test_cli_search(client: TestClient, community: Community) -> None:
    """`tabadol search` searches what an org may read."""
    post(client, community, "A", "members", [note("حمله باج‌افزاری به بیمارستان")])
    result = CliRunner().invoke(
        app,
        [
            *("search", "بیمارستان", "--org", "Org C", "--json"),
            *("--data", str(community.node.data_dir), "--break-glass", "test"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "باج‌افزاری" in result.stdout


def test_cli_search_with_no_hits_says_so(client: TestClient, community: Community) -> None:
    """A search that finds nothing says "no results" (it printed nothing), on stderr, so
    `--json` output stays empty for a pipe."""
    post(client, community, "A", "members", [note("حمله باج‌افزاری به بیمارستان")])
    data = str(community.node.data_dir)
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(
            app,
            ["search", "زلزله", "--org", "Org C", "--data", data, "--break-glass", "t", *extra],
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert "no results" in result.stderr


def test_cli_search_says_what_is_wrong(community: Community) -> None:
    """`tabadol search` refuses words it cannot search for with the API's message."""
    result = CliRunner().invoke(
        app, ["search", "?!", "--org", "Org C", "--data", str(community.node.data_dir)]
    )
    assert result.exit_code != 0
    assert "q must contain at least one word or number" in result.output


@pytest.mark.parametrize(
    ("written", "query", "highlighted"),
    [
        ("این حمله انجام می شود و ادامه دارد", "میشود", "می شود"),
        ("این حمله انجام می\u200cشود و ادامه دارد", "می شود", "می\u200cشود"),
        ("فهرست کتاب ها در پیوست آمده است", "کتابها", "کتاب ها"),
    ],
)
def test_snippets_highlight_an_affix_written_apart_with_its_word(
    client: TestClient, community: Community, written: str, query: str, highlighted: str
) -> None:
    """The tokenizer joins "می شود" into one word; the snippet highlights both parts as one
    match, in the text as written."""
    post(client, community, "A", "members", [note(written)])
    (hit,) = search(client, community, "B", q=query)["hits"]
    assert [s["text"] for s in hit["snippet"] if s["match"]] == [highlighted]
    assert "".join(s["text"] for s in hit["snippet"]) == written
