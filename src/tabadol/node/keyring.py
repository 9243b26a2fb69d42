"""The org private keys this node holds (node custody): generated here, wrapped under the key
secret, unwrapped once per process and kept in memory only. Per-node state, used by every use
case that signs or opens for an org."""

from __future__ import annotations

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from tabadol.crypto.sealing import x25519_key_id
from tabadol.crypto.signing import key_id
from tabadol.crypto.wrapping import load_or_create_secret, unwrap, wrap
from tabadol.domain.errors import Forbidden, KeysUnavailable, UnwrapError
from tabadol.domain.keys import KeyPurpose, NewKey, OrgKey
from tabadol.domain.model import Org
from tabadol.node.node import Node


def _secret(node: Node) -> bytes:
    """The key-wrapping secret; made on first use only while no key is wrapped under it (a
    lost secret is never silently replaced: keys made later would not match the backup)."""
    path = node.key_secret_path
    if not path.exists() and any(k.held_by_node for k in node.store.org_keys()):
        raise KeysUnavailable(
            f"the key secret {path} is missing while the node holds keys wrapped under it:"
            " restore it (setting key_secret_file)"
        )
    try:
        return load_or_create_secret(path)
    except UnwrapError as exc:
        raise KeysUnavailable(str(exc)) from None


def value_secret(node: Node) -> bytes:
    """The key secret for values wrapped under it (a person's TOTP secret): read, never
    made (an open node has it: `open_node` refuses to start without it)."""
    if not node.key_secret_path.exists():
        raise KeysUnavailable(
            f"the key secret {node.key_secret_path} is missing: restore it (setting"
            " key_secret_file)"
        )
    return _secret(node)


def generate_node_held_keys(node: Node) -> list[NewKey]:
    """A fresh signing and encryption key pair, the private halves wrapped (only under the
    secret that opens the keys already held: a wrong secret would strand the new keys)."""
    secret = _secret(node)
    held = next((k for k in node.store.org_keys() if k.held_by_node), None)
    if held is not None:
        private_key(node, held)  # KeysUnavailable if this secret does not open it
    signing = SigningKey.generate()
    encryption = PrivateKey.generate()
    sign_id = key_id(bytes(signing.verify_key))
    enc_id = x25519_key_id(bytes(encryption.public_key))
    return [
        NewKey(
            sign_id,
            KeyPurpose.SIGN,
            bytes(signing.verify_key),
            wrap(secret, sign_id, bytes(signing)),
        ),
        NewKey(
            enc_id,
            KeyPurpose.ENCRYPT,
            bytes(encryption.public_key),
            wrap(secret, enc_id, bytes(encryption)),
        ),
    ]


def private_key(node: Node, key: OrgKey) -> bytes:
    """A node-held private key, unwrapped once per process and kept in memory only."""
    cached = node.unwrapped.get(key.key_id)
    if cached is not None:
        return cached
    wrapped = node.store.wrapped_private(key.key_id)
    if wrapped is None:
        raise Forbidden(f"the node does not hold the private key {key.key_id}")
    try:
        private = unwrap(_secret(node), key.key_id, wrapped)
    except UnwrapError:
        raise KeysUnavailable(
            f"the key secret {node.key_secret_path} does not open the org keys the node holds:"
            " restore the right secret (setting key_secret_file)"
        ) from None
    with node.unwrapped_lock:
        node.unwrapped[key.key_id] = private
    return private


def signing_key_of(node: Node, key: OrgKey) -> SigningKey:
    return SigningKey(private_key(node, key))


def decryption_key_of(node: Node, key: OrgKey) -> PrivateKey:
    return PrivateKey(private_key(node, key))


def current_key(node: Node, org: Org, purpose: KeyPurpose) -> OrgKey | None:
    return node.store.current_keys([org.id], purpose).get(org.id)
