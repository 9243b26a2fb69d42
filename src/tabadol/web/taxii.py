"""TAXII 2.1 endpoints: check media type and principal, call one service, render.

Discovery lives at /taxii2/ and the one API root at /taxii2/root/. Section numbers refer to
TAXII Version 2.1 (OASIS Standard, 10 June 2021).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tabadol.domain import strict_json
from tabadol.domain.model import Principal
from tabadol.node.node import Node
from tabadol.usecases.publishing.publish import envelope_objects, publish_objects
from tabadol.usecases.reading import read
from tabadol.web import auth, render
from tabadol.web.media import TAXII_21, check_accept, check_content_type

API_ROOT = "/taxii2/root"
router = APIRouter(prefix="/taxii2", tags=["TAXII 2.1"])


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _principal(request: Request, node: Node) -> Principal:
    """The caller; anonymous callers get through only where the node serves `public` to all."""
    check_accept(request.headers.get("accept"))
    return auth.api_principal(request, anonymous=True)


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status_code=status, media_type=TAXII_21, headers=headers)


def _params(request: Request) -> dict[str, str]:
    """Query parameters; a repeated one counts as one comma-separated list."""
    query = request.query_params
    return {key: ",".join(query.getlist(key)) for key in query}


@router.get("/", summary="Server discovery (TAXII 2.1 section 4.1)")
def discovery(request: Request) -> Response:
    """The API root's URL is built from the `public_url` setting, or relative (section 4.1.1
    allows it), never from the request's `Host` or `X-Forwarded-*`: a cache or proxy in front
    could otherwise be made to send clients, and their tokens, elsewhere."""
    node = _node(request)
    _principal(request, node)
    root = node.settings.public_url.rstrip("/") + API_ROOT + "/"
    return _taxii(
        {
            "title": node.settings.node_name,
            "description": "tabadol: STIX 2.1 exchange between member organizations",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/root/", summary="API root information (TAXII 2.1 section 4.2)")
def api_root(request: Request) -> Response:
    node = _node(request)
    _principal(request, node)
    return _taxii(
        {
            "title": node.settings.node_name,
            "description": "The collections of this exchange: one per audience channel.",
            "versions": [TAXII_21],
            "max_content_length": node.settings.max_request_bytes,
        }
    )


@router.get("/root/status/{status_id}/", summary="Status (TAXII 2.1 section 4.3)")
def status(request: Request, status_id: str) -> Response:
    node = _node(request)
    record = read.get_status(node, _principal(request, node), status_id)
    return _taxii(render.status(record))


@router.get("/root/collections/", summary="Collections (TAXII 2.1 section 5.1)")
def collections(request: Request) -> Response:
    node = _node(request)
    views = read.list_collections(node, _principal(request, node))
    if not views:
        return _taxii({})
    return _taxii({"collections": [render.collection(v) for v in views]})


@router.get("/root/collections/{collection_id}/", summary="A collection (TAXII 2.1 section 5.2)")
def collection(request: Request, collection_id: str) -> Response:
    node = _node(request)
    view = read.get_collection(node, _principal(request, node), collection_id)
    return _taxii(render.collection(view))


@router.get(
    "/root/collections/{collection_id}/manifest/", summary="Manifest (TAXII 2.1 section 5.3)"
)
def manifest(request: Request, collection_id: str) -> Response:
    node = _node(request)
    page = read.get_manifest(node, _principal(request, node), collection_id, _params(request))
    return _taxii(render.manifest(page), headers=render.date_headers(page))


@router.get(
    "/root/collections/{collection_id}/objects/", summary="Get objects (TAXII 2.1 section 5.4)"
)
def get_objects(request: Request, collection_id: str) -> Response:
    node = _node(request)
    page = read.get_objects(node, _principal(request, node), collection_id, _params(request))
    return _taxii(render.objects_envelope(page), headers=render.date_headers(page))


@router.post(
    "/root/collections/{collection_id}/objects/",
    summary="Add objects (TAXII 2.1 section 5.5)",
    status_code=202,
)
async def add_objects(request: Request, collection_id: str) -> Response:
    node = _node(request)
    principal = await run_in_threadpool(_principal, request, node)
    check_content_type(request.headers.get("content-type"))
    body = await request.body()  # within max_request_bytes: web.body.BodyLimit read it
    # tabadol's extension: ask for end-to-end encryption whatever the TLP
    encrypt = request.headers.get("x-tabadol-encrypt", "").strip().lower() in ("1", "true")

    def publish() -> dict[str, object]:
        collection = read.get_collection(node, principal, collection_id).collection
        hint = strict_json.JcsHint()
        envelope = strict_json.loads(body, hint)
        objects = envelope_objects(envelope, node.settings.max_objects_per_envelope)
        status = publish_objects(
            node, principal, collection, objects, encrypt=encrypt, jcs_exact=hint.exact
        )
        return render.status(status)

    return _taxii(await run_in_threadpool(publish), status=202)


@router.get(
    "/root/collections/{collection_id}/objects/{object_id}/",
    summary="Get an object (TAXII 2.1 section 5.6)",
)
def get_object(request: Request, collection_id: str, object_id: str) -> Response:
    node = _node(request)
    principal = _principal(request, node)
    page = read.get_object(node, principal, collection_id, object_id, _params(request))
    return _taxii(render.objects_envelope(page), headers=render.date_headers(page))


@router.delete(
    "/root/collections/{collection_id}/objects/{object_id}/",
    summary="Delete an object (TAXII 2.1 section 5.7)",
)
def delete_object(request: Request, collection_id: str, object_id: str) -> Response:
    node = _node(request)
    principal = _principal(request, node)
    read.delete_object(node, principal, collection_id, object_id, _params(request))
    return Response(status_code=200)  # no body (section 5.7), so no media type


@router.get(
    "/root/collections/{collection_id}/objects/{object_id}/versions/",
    summary="Object versions (TAXII 2.1 section 5.8)",
)
def versions(request: Request, collection_id: str, object_id: str) -> Response:
    node = _node(request)
    principal = _principal(request, node)
    page = read.get_versions(node, principal, collection_id, object_id, _params(request))
    return _taxii(render.versions(page), headers=render.date_headers(page))
