"""TAXII resources as bytes: object pages are assembled from stored JSON without re-parsing."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from tabadol.domain.timestamps import format_date_added, format_us
from tabadol.usecases.reading.read import CollectionView, Page, StatusRecord
from tabadol.web.media import STIX_21


def _page_head(page: Page) -> bytes:
    return (
        b'{"more":true,"next":' + orjson.dumps(page.next_token) if page.more else b'{"more":false'
    )


def objects_envelope(page: Page) -> bytes:
    """TAXII 2.1 section 3.7 envelope; the stored bodies are spliced in as they are."""
    if not page.rows:
        return _page_head(page) + b"}"
    return _page_head(page) + b',"objects":[' + b",".join(r.body for r in page.rows) + b"]}"


def manifest(page: Page) -> bytes:
    records = [
        {
            "id": row.stix_id,
            "date_added": format_date_added(row.date_added),
            "version": format_us(row.version_us),
            "media_type": STIX_21,
        }
        for row in page.rows
    ]
    body = orjson.dumps({"objects": records})[1:] if records else b"}"
    return _page_head(page) + (b"," + body if records else body)


def versions(page: Page) -> bytes:
    listed = [format_us(row.version_us) for row in page.rows]
    body = orjson.dumps({"versions": listed})[1:] if listed else b"}"
    return _page_head(page) + (b"," + body if listed else body)


def date_headers(page: Page) -> dict[str, str]:
    if not page.rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_date_added(page.rows[0].date_added),
        "X-TAXII-Date-Added-Last": format_date_added(page.rows[-1].date_added),
    }


def collection(view: CollectionView) -> dict[str, object]:
    return {
        "id": view.collection.uuid,
        "title": view.collection.title,
        "description": view.collection.description,
        "can_read": view.can_read,
        "can_write": view.can_write,
        "media_types": [STIX_21],
    }


def status(record: StatusRecord) -> dict[str, object]:
    def details(entries: Sequence[tuple[str, str, str]]) -> list[dict[str, str]]:
        out = []
        for stix_id, version, message in entries:
            item = {"id": stix_id, "version": version}
            if message:
                item["message"] = message
            out.append(item)
        return out

    return {
        "id": record.uuid,
        "status": "complete",
        "request_timestamp": format_date_added(record.request_us),
        "total_count": record.total,
        "success_count": len(record.successes),
        "successes": details(record.successes),
        "failure_count": len(record.failures),
        "failures": details(record.failures),
        "pending_count": 0,
        "pendings": [],
    }
