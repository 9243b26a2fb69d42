"""The own-keys client treats markings as the node does: it posts the standard TLP markings
untouched (the node refuses a signed or attributed copy) and seals an object whose granular
marking is TLP:RED (the node refuses it in clear)."""

from __future__ import annotations

import uuid

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from tabadol.client.remote import ClientKeys, _prepare
from tabadol.domain.errors import InvalidInput
from tabadol.domain.tlp import STANDARD_MARKINGS, TLP

IDENTITY = f"identity--{uuid.uuid4()}"


def _note() -> dict[str, object]:
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "content": "a red part",
        "object_refs": [f"report--{uuid.uuid4()}"],
        "object_marking_refs": [TLP.GREEN.marking_id],
        "granular_markings": [{"marking_ref": TLP.RED.marking_id, "selectors": ["content"]}],
    }


def test_the_client_posts_standard_markings_untouched_and_seals_red_parts() -> None:
    keys = ClientKeys(SigningKey.generate(), PrivateKey.generate())
    for standard in STANDARD_MARKINGS.values():
        assert _prepare(dict(standard), keys, TLP.GREEN, False, None) == standard
    recipients = {keys.encrypt_id: bytes(keys.encryption.public_key)}
    sealed = _prepare(_note(), keys, None, False, recipients)
    assert sealed["type"] == "tabadol-sealed"
    assert sealed["sealed_ref"].startswith("note--")
    assert "content" not in sealed
    with pytest.raises(InvalidInput):
        _prepare(_note(), keys, None, False, None)  # `public`: cannot be sealed
