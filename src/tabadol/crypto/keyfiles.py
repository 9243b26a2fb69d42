"""The node key's files in the data directory: its public half in clear, its private half
wrapped under the key secret kept outside the data directory (like the org keys), so the
data directory or a backup of it gives no private key. Written 0600, never logged."""

from __future__ import annotations

import os
from pathlib import Path

from nacl.signing import SigningKey

from tabadol.crypto.wrapping import unwrap, wrap

PUBLIC_FILE = "node.ed25519.pub"
WRAPPED_FILE = "node.ed25519.wrapped"
LEGACY_FILE = "node.ed25519"  # before the key was wrapped: a raw seed
_WRAP_ID = "node-key"


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def exists(directory: Path) -> bool:
    return (directory / PUBLIC_FILE).exists() or (directory / LEGACY_FILE).exists()


def write_node_key(directory: Path, key: SigningKey, secret: bytes) -> None:
    """Store a new node key, wrapped under `secret`; refuse to overwrite one."""
    _write_new(directory / WRAPPED_FILE, wrap(secret, _WRAP_ID, bytes(key)))
    _write_new(directory / PUBLIC_FILE, bytes(key.verify_key))


def node_public_key(directory: Path) -> bytes:
    """The node's public key (it names the node; reading it needs no secret)."""
    public = directory / PUBLIC_FILE
    if public.exists():
        return public.read_bytes()
    return bytes(SigningKey((directory / LEGACY_FILE).read_bytes()).verify_key)


def load_node_key(directory: Path, secret: bytes) -> SigningKey:
    """The node key (UnwrapError if `secret` does not open it). A data directory from before
    the key was wrapped is upgraded on the way: wrapped, then the raw seed removed."""
    legacy = directory / LEGACY_FILE
    if legacy.exists():
        key = SigningKey(legacy.read_bytes())
        if not (directory / WRAPPED_FILE).exists():
            _write_new(directory / WRAPPED_FILE, wrap(secret, _WRAP_ID, bytes(key)))
            _write_new(directory / PUBLIC_FILE, bytes(key.verify_key))
        legacy.unlink()
        return key
    return SigningKey(unwrap(secret, _WRAP_ID, (directory / WRAPPED_FILE).read_bytes()))
