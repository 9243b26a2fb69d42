"""Correlations across members: shared observables link objects, never beyond their audience."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.testclient import TestClient

from tabadol.usecases.reading import correlate

from ..api.test_search import note, post
from ..conftest import Community


def correlated(client: TestClient, com: Community, who: str, stix_id: str) -> Any:
    return client.get(f"/api/v1/correlations/{stix_id}", headers=com.auth(who, "reader"))


def by_value(body: Any) -> dict[str, set[str]]:
    return {o["value"]: {x["id"] for x in o["objects"]} for o in body["observables"]}


def test_an_ip_in_persian_digits_correlates_with_the_same_ip(
    client: TestClient, community: Community
) -> None:
    """A's English report and B's Persian note name one IP in different digits: correlated
    both ways, across members."""
    english = note("C2 at 185.220.101.4 seen again")
    persian = note("سرور فرمان‌دهی ۱۸۵.۲۲۰.۱۰۱.۴ دوباره دیده شد")
    post(client, community, "A", "members", [english])
    post(client, community, "B", "members", [persian])
    from_a = by_value(correlated(client, community, "C", english["id"]).json())
    assert from_a == {"185.220.101.4": {persian["id"]}}
    from_b = correlated(client, community, "C", persian["id"]).json()
    (entry,) = from_b["observables"]
    assert entry["type"] == "ipv4"
    assert entry["objects"][0]["published_by"] == "Org A"


def test_names_correlate_across_scripts(client: TestClient, community: Community) -> None:
    """A threat actor named in Arabic letters and one in Persian letters correlate by name."""
    arabic = {
        "type": "threat-actor",
        "spec_version": "2.1",
        "id": "threat-actor--6f1c1c5e-4f6a-4c1b-9d43-0f7a1e2b3c41",
        "created": "2026-01-02T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "name": "مجموعة كيتن",
    }
    persian = {
        **arabic,
        "id": "threat-actor--7a2d2d6f-5a7b-4d2c-8e54-1a8b2f3c4d52",
        "name": "مجموعه کیتن",
    }
    post(client, community, "A", "members", [arabic])
    post(client, community, "B", "members", [persian])
    body = correlated(client, community, "C", arabic["id"]).json()
    assert by_value(body) == {"مجموعه کیتن": {persian["id"]}}


def test_correlations_never_reveal_what_is_out_of_audience(
    client: TestClient, community: Community
) -> None:
    """C does not learn that the AB group holds an item with the same hash, nor that the
    group item exists; A and B do."""
    digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public = note(f"sample {digest}")
    group = note(f"نمونه {digest}")
    post(client, community, "C", "members", [public])
    post(client, community, "A", "AB group", [group])
    assert by_value(correlated(client, community, "C", public["id"]).json()) == {digest: set()}
    assert by_value(correlated(client, community, "B", public["id"]).json()) == {
        digest: {group["id"]}
    }
    hidden = correlated(client, community, "C", group["id"])
    assert hidden.status_code == 404
    missing = correlated(client, community, "C", "note--00000000-0000-4000-8000-000000000000")
    assert hidden.json() == missing.json()


def test_fan_out_is_capped_per_value(client: TestClient, community: Community) -> None:
    """A value shared by many objects lists at most PER_VALUE of them, and says there are more."""
    objects = [note(f"beacon to evil-update.com #{i}") for i in range(correlate.PER_VALUE + 3)]
    post(client, community, "A", "members", objects)
    body = correlated(client, community, "B", objects[0]["id"]).json()
    (entry,) = body["observables"]
    assert len(entry["objects"]) == correlate.PER_VALUE
    assert entry["more"] is True


def test_index_stays_within_twice_the_observables(client: TestClient, community: Community) -> None:
    """No correlation rows are stored: the index is one row per observable of a latest version."""
    post(
        client,
        community,
        "A",
        "members",
        [note(f"host 185.220.101.{i} and evil-update.com") for i in range(30)],
    )
    db = community.node.data_dir / community.node.settings.database

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*) FROM observables").fetchone()[0]
        distinct = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT kind, value, date_added FROM observables)"
        ).fetchone()[0]
    assert rows == distinct == 60
