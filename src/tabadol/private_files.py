"""Files that hold members' data: directories 0700, files 0600, whatever the umask.

A data directory, its database (and SQLite's -wal and -shm beside it), its settings, an
export (which holds an org's sealed items opened) and a backup are the node's secrets as
much as its keys are. Under the usual umask 022 `open()` and `mkdir()` would make them
readable by every local user, so they are created with explicit modes here, and the modes
of files made by older versions are tightened when the node opens them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """Create `path` (and its missing parents) if needed; `path` itself ends up 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    tighten(path, DIRECTORY_MODE)
    return path


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Take every permission beyond `mode` away from an existing file or directory (a file
    of someone else's, which we may not change, is left as it is)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        current = path.stat().st_mode & 0o777
        if current & ~mode:
            path.chmod(current & mode)


def create_private(path: Path) -> None:
    """Make sure `path` exists as a file only its owner reads (an empty one if it did not
    exist): a program that then opens it (SQLite) keeps its mode, and SQLite gives the
    -wal and -shm files it creates the database file's mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    tighten(path)


@contextlib.contextmanager
def open_private(path: Path, *, exclusive: bool = False) -> Iterator[BinaryIO]:
    """Open `path` for writing (truncated), 0600 from its first byte: the mode is given to
    `open(2)`, not set afterwards, so no other user can open it in between."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` as a 0600 file."""
    with open_private(path) as handle:
        handle.write(data)
