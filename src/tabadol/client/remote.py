"""The CLI as the client of an org that keeps its own keys (client custody).

It signs objects, seals restricted ones to the audience's encryption keys before upload,
and opens and verifies them after download, so the node never sees the org's private keys
or the plaintext of its end-to-end encrypted items. Talks TAXII 2.1 and the native API.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from tabadol.client.pins import check_directory, load_pins, save_pins
from tabadol.crypto.object_signature import attach_signature
from tabadol.crypto.sealed_object import open_object, seal_object
from tabadol.crypto.sealing import x25519_key_id
from tabadol.crypto.signing import b64url, key_id, unb64url
from tabadol.domain import strict_json
from tabadol.domain.attestation import carry_attestation
from tabadol.domain.errors import InvalidInput, KeyChanged, SealingError
from tabadol.domain.extensions import NODE_OBJECTS
from tabadol.domain.sealed import is_sealed
from tabadol.domain.timestamps import format_us
from tabadol.domain.tlp import TLP, strictest_granular_tlp, strictest_tlp
from tabadol.usecases.trust.verify import Verdict, verify_all

TAXII = "application/taxii+json;version=2.1"
RESTRICTED = frozenset({TLP.RED, TLP.AMBER_STRICT})


@dataclass(frozen=True, slots=True)
class ClientKeys:
    signing: SigningKey
    encryption: PrivateKey

    @property
    def sign_id(self) -> str:
        return key_id(bytes(self.signing.verify_key))

    @property
    def encrypt_id(self) -> str:
        return x25519_key_id(bytes(self.encryption.public_key))

    def public(self) -> dict[str, str]:
        return {
            "sign": b64url(bytes(self.signing.verify_key)),
            "encrypt": b64url(bytes(self.encryption.public_key)),
        }


def generate_keyfile(path: Path) -> ClientKeys:
    """New keys in a file only the user can read (refusing to overwrite one)."""
    keys = ClientKeys(SigningKey.generate(), PrivateKey.generate())
    body = orjson.dumps(
        {
            "tabadol_keys": 1,
            "sign": b64url(bytes(keys.signing)),
            "encrypt": b64url(bytes(keys.encryption)),
        }
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} exists; keys are never overwritten") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    return keys


def load_keyfile(path: Path) -> ClientKeys:
    try:
        data = strict_json.loads(path.read_bytes())
        return ClientKeys(SigningKey(unb64url(data["sign"])), PrivateKey(unb64url(data["encrypt"])))
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a tabadol key file ({exc})") from None


class RemoteNode:
    """A node over HTTP, as one org's token sees it; its key directory checked against the
    keys pinned on first use (`client.pins`) when a pins file is given."""

    def __init__(
        self,
        url: str,
        token: str,
        transport: httpx.BaseTransport | None = None,
        *,
        pins: Path | None = None,
        accept_key_changes: bool = False,
    ):
        self.url = url.rstrip("/")
        self.pins = pins
        self.accept_key_changes = accept_key_changes
        self.notices: list[str] = []  # what pinning has to say: first use, rotations
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                detail = response.json()
                message = detail.get("description") or detail.get("title")
            except ValueError:
                message = response.text[:200]
            raise InvalidInput(f"{response.request.url.path}: {response.status_code} {message}")
        return response.json()

    def get(self, path: str, **params: str) -> Any:
        try:
            return self._json(self._http.get(path, params=params, headers={"Accept": TAXII}))
        except httpx.HTTPError as exc:
            raise InvalidInput(f"cannot reach the node: {exc}") from None

    def post(self, path: str, objects: Sequence[Any]) -> Any:
        body = orjson.dumps({"objects": list(objects)})
        headers = {"Accept": TAXII, "Content-Type": TAXII}
        try:
            return self._json(self._http.post(path, content=body, headers=headers))
        except httpx.HTTPError as exc:
            raise InvalidInput(f"cannot reach the node: {exc}") from None

    def post_json(self, path: str, body: Any = None) -> Any:
        """A native API call (JSON in and out)."""
        try:
            return self._json(self._http.post(path, json=body))
        except httpx.HTTPError as exc:
            raise InvalidInput(f"cannot reach the node: {exc}") from None

    def call(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        """A native API call of any method (JSON in and out; None for an empty answer)."""
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise InvalidInput(f"cannot reach the node: {exc}") from None
        if response.status_code < 400 and not response.content:
            return None
        return self._json(response)

    def key_directory(self) -> dict[str, Any]:
        """The node's key directory, checked against (and added to) the pinned keys."""
        directory: dict[str, Any] = self.get("/api/v1/keys")
        if self.pins is not None:
            pinned = load_pins(self.pins)
            check = check_directory(
                pinned, self.url, directory, accept_changes=self.accept_key_changes
            )
            save_pins(self.pins, pinned)
            self.notices += check.notices
        return directory

    def objects(self, collection: str) -> Iterator[dict[str, Any]]:
        """Every object of a collection, page by page."""
        params: dict[str, str] = {}
        while True:
            page = self.get(f"/taxii2/root/collections/{collection}/objects/", **params)
            yield from page.get("objects", [])
            if not page.get("more"):
                return
            params = {"next": page["next"]}


def _prepare(
    obj: dict[str, Any],
    keys: ClientKeys,
    tlp: TLP | None,
    encrypt: bool,
    recipients: dict[str, bytes] | None,
) -> dict[str, Any]:
    """Complete, sign, and (when restricted) seal one object for upload."""
    if obj == NODE_OBJECTS.get(str(obj.get("id"))):
        return obj  # the node's own (a TLP marking, an extension): taken as defined, unsigned
    obj = dict(obj)  # authorship stays as given: a member relays other producers' objects
    marked = strictest_tlp(obj.get("object_marking_refs"))
    if marked is None and tlp is not None and obj.get("type") != "marking-definition":
        obj["object_marking_refs"] = [*obj.get("object_marking_refs", []), tlp.marking_id]
        marked = tlp
    granular = strictest_granular_tlp(obj.get("granular_markings"))
    if granular is not None and (marked is None or granular > marked):
        marked = granular  # a TLP:RED part seals the whole object, as the node requires
    attach_signature(obj, keys.signing, keys.sign_id)
    if not (encrypt or marked in RESTRICTED):
        return obj
    if not recipients:
        raise InvalidInput("this collection's items cannot be encrypted (public)")
    # dates the item of an observable, which has no timestamp of its own
    sealed = seal_object(obj, recipients, stamp=format_us(time.time_ns() // 1000))
    attach_signature(sealed, keys.signing, keys.sign_id)
    return sealed


def _check_recipients(recipients: list[dict[str, Any]], directory: dict[str, Any]) -> None:
    """Each key sealed to is a current key of the (checked) directory, with that material:
    the recipients list cannot slip in a key the pinned directory does not hold."""
    listed = {
        k["key_id"]: k
        for org in directory.get("organizations", [])
        for k in org.get("keys", [])
        if not k.get("valid_until") and not k.get("revoked")
    }
    for recipient in recipients:
        key = listed.get(recipient["key_id"])
        if key is None or key.get("public_key") != recipient["public_key"]:
            raise KeyChanged(
                f"the node gives {recipient['key_id']} as a recipient key, which its key"
                " directory does not list as a current key"
            )


def publish(
    remote: RemoteNode,
    keys: ClientKeys,
    collection: str,
    objects: Sequence[Any],
    *,
    tlp: TLP | None = None,
    encrypt: bool = False,
    batch: int = 1000,
) -> dict[str, int | list[tuple[str, str]]]:
    """Sign (and seal) objects here, then post them; returns counts and refusals."""
    whoami = remote.get("/api/v1/whoami")
    if not whoami.get("identity_id"):
        raise InvalidInput("this token does not belong to an organization")
    directory = remote.key_directory()
    audience = remote.get(f"/api/v1/collections/{collection}/recipients")
    recipients = {r["key_id"]: unb64url(r["public_key"]) for r in audience["recipients"]}
    _check_recipients(audience["recipients"], directory)
    # unmarked objects take the channel's default explicitly, so the client knows the TLP
    # the node would give them and seals what must be sealed: the node never sees it
    tlp = tlp or TLP.parse(audience["default_tlp"])
    prepared = []
    for obj in objects:
        if not isinstance(obj, dict):
            raise InvalidInput("every object must be a JSON object")
        prepared.append(_prepare(obj, keys, tlp, encrypt, recipients))
    stored, refusals = 0, []
    for start in range(0, len(prepared), batch):
        status = remote.post(
            f"/taxii2/root/collections/{collection}/objects/", prepared[start : start + batch]
        )
        stored += int(status.get("success_count", 0))
        refusals += [(f["id"], f.get("message", "")) for f in status.get("failures", [])]
    return {"stored": stored, "refused": refusals}


def fetch(
    remote: RemoteNode, keys: ClientKeys, collection: str
) -> tuple[list[dict[str, Any]], list[Verdict]]:
    """Download a collection, open the items sealed to this org, verify every signature
    (of the sealed form and of what it held) against the node's key directory."""
    directory = remote.key_directory()
    objects: list[dict[str, Any]] = []
    outer: list[dict[str, Any]] = []
    for obj in remote.objects(collection):
        if is_sealed(obj):  # either form
            outer.append(obj)
            # not ours, tampered, or not a JSON object inside: keep the sealed form
            with contextlib.suppress(SealingError, ValueError, TypeError):
                # the node's provenance and audience are on the sealed form it stored
                obj = carry_attestation(obj, open_object(obj, keys.encryption))
        objects.append(obj)
    verdicts = verify_all([*outer, *objects], directory)
    return objects, verdicts
