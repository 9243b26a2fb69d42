"""GET /api/v1/search and /api/v1/correlations: finding things among what the caller may read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from tabadol.usecases.publishing.derive import derive_indicators
from tabadol.usecases.reading import correlate
from tabadol.usecases.reading import search as search_service
from tabadol.web.api import Caller, _node
from tabadol.web.render import status as render_status

router = APIRouter(prefix="/api/v1", tags=["search"])


def render(page: search_service.SearchPage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hits": [
            {
                "object": hit.obj,
                "collection": hit.collection,
                "score": round(hit.score, 6),
                "direction": hit.direction,
                "snippet": [{"text": s.text, "match": s.match} for s in hit.snippet],
            }
            for hit in page.hits
        ],
        "more": page.next_token is not None,
    }
    if page.next_token is not None:
        body["next"] = page.next_token
    return body


@router.get("/search")
def search(
    request: Request,
    principal: Caller,
    q: str = Query(description="Words in Persian, Arabic or English; all must be found."),
    type: str | None = Query(default=None, description="STIX types, comma-separated."),
    org: str | None = Query(default=None, description="Author organizations, by name."),
    tlp: str | None = Query(default=None, description="TLP labels, e.g. GREEN,AMBER."),
    collection: str | None = Query(default=None, description="TAXII collection ids."),
    added_after: str | None = Query(default=None, description="RFC 3339 lower bound."),
    added_before: str | None = Query(default=None, description="RFC 3339 upper bound."),
    limit: int = Query(default=search_service.DEFAULT_LIMIT, ge=1),
    next: str | None = Query(default=None, description="The `next` of the previous page."),
) -> dict[str, Any]:
    """Hits ranked by BM25, each with the object, its collection and a snippet of segments in
    logical order (`match` flags the words that matched) and the snippet's direction."""
    wanted = search_service.SearchRequest.parse(
        q,
        types=type,
        orgs=org,
        tlps=tlp,
        collections=collection,
        added_after=added_after,
        added_before=added_before,
        # As written: FastAPI reads "+5", " 5" or "5.0" as 5, which the API has always refused.
        limit=request.query_params.get("limit", str(limit)),
        next=next,
    )
    return render(search_service.search(_node(request), principal, wanted))


@router.get("/correlations/{object_id}")
def correlations(request: Request, principal: Caller, object_id: str) -> dict[str, Any]:
    """The observables of an object you may read (IPs, domains, hashes, wallets, names …) and,
    for each, up to 20 other objects you may read that share it, across members."""
    found = correlate.correlations(_node(request), principal, object_id)
    return {
        "object": object_id,
        "observables": [
            {"type": c.kind, "value": c.value, "objects": c.objects, "more": c.more} for c in found
        ],
    }


@router.post("/collections/{collection_id}/objects/{object_id}/indicators", status_code=201)
def derive(
    request: Request, principal: Caller, collection_id: str, object_id: str
) -> dict[str, Any]:
    """Publish the indicators found in an object's text (IPs, domains, URLs, hashes, CVEs,
    wallets …) as STIX indicators (vulnerabilities for CVEs) in the same collection, with the
    same TLP, each linked to the object by a `derived-from` relationship. For the org that
    published the object; asking again stores nothing new. Answers a TAXII status."""
    status = derive_indicators(_node(request), principal, collection_id, object_id)
    return render_status(status)
