"""Private key files in the data directory: created with mode 0600, never logged."""

from __future__ import annotations

import os
from pathlib import Path

from nacl.signing import SigningKey


def create_signing_key(path: Path) -> SigningKey:
    """Generate an Ed25519 key and write its seed to `path` (0600, refusing to overwrite)."""
    key = SigningKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(key))
        handle.flush()
        os.fsync(handle.fileno())
    return key


def load_signing_key(path: Path) -> SigningKey:
    """Read a key written by `create_signing_key`."""
    seed = path.read_bytes()
    if len(seed) != 32:
        raise ValueError(f"{path}: not an Ed25519 seed")
    return SigningKey(seed)
