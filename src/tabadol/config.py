"""Settings: one typed, frozen table with defaults and help; TOML file, then environment.

The data directory holds `tabadol.toml`; any setting can be overridden by the environment
variable `TABADOL_<NAME>` (upper case), which is how tests and containers configure a node.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import ChannelDefaults
from tabadol.domain.tlp import TLP
from tabadol.private_files import write_private

CONFIG_FILE = "tabadol.toml"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("node_name", "tabadol node", "Title of the node in TAXII discovery."),
    Setting("host", "127.0.0.1", "Address `tabadol serve` listens on."),
    Setting("port", 8470, "Port `tabadol serve` listens on."),
    Setting("database", "tabadol.db", "SQLite file, relative to the data directory."),
    Setting(
        "database_url",
        "",
        "PostgreSQL instead of the SQLite file: `postgresql://user@host:5432/dbname`.",
    ),
    Setting("database_schema", "", "PostgreSQL schema to use (empty: the default search path)."),
    Setting("max_request_bytes", 16 * 1024 * 1024, "Largest request body accepted (bytes)."),
    Setting("max_objects_per_envelope", 5000, "Most objects one TAXII POST may carry."),
    Setting("page_size_default", 1000, "Objects per page when a request gives no `limit`."),
    Setting("page_size_max", 5000, "Largest page served; a larger `limit` is lowered to it."),
    Setting("anonymous_public_read", False, "Let requests without a token read `public`."),
    Setting("default_tlp_org", "AMBER+STRICT", "TLP of unmarked items in an org's channel."),
    Setting("default_tlp_group", "AMBER", "TLP of unmarked items in a group's channel."),
    Setting("default_tlp_members", "GREEN", "TLP of unmarked items in `members`."),
    Setting("default_tlp_public", "CLEAR", "TLP of unmarked items in `public`."),
    Setting("log_level", "info", "uvicorn log level: critical, error, warning, info, debug."),
    Setting(
        "worker_threads",
        4,
        "Threads serving requests in a worker (each may hold a database reader). Fewer threads"
        " contend less for Python's GIL: at 1M objects, 16 connections, SQLite served 865"
        " pages/s with 4 threads and 527 with 8 (bench/README.md).",
    ),
    Setting("sync_peers", True, "Follow the change streams of the peers (`tabadol peer add`)."),
    Setting(
        "key_secret_file",
        "",
        "File holding the secret that wraps the node key and the org private keys the node"
        " holds; must lie outside the data directory. Empty:"
        " `$XDG_CONFIG_HOME/tabadol/secrets/NODE_ID.key`.",
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    node_name: str = "tabadol node"
    host: str = "127.0.0.1"
    port: int = 8470
    database: str = "tabadol.db"
    database_url: str = ""
    database_schema: str = ""
    max_request_bytes: int = 16 * 1024 * 1024
    max_objects_per_envelope: int = 5000
    page_size_default: int = 1000
    page_size_max: int = 5000
    anonymous_public_read: bool = False
    default_tlp_org: str = "AMBER+STRICT"
    default_tlp_group: str = "AMBER"
    default_tlp_members: str = "GREEN"
    default_tlp_public: str = "CLEAR"
    log_level: str = "info"
    worker_threads: int = 4
    sync_peers: bool = True
    key_secret_file: str = ""

    def channel_defaults(self) -> ChannelDefaults:
        return ChannelDefaults(
            org=TLP.parse(self.default_tlp_org),
            group=TLP.parse(self.default_tlp_group),
            members=TLP.parse(self.default_tlp_members),
            public=TLP.parse(self.default_tlp_public),
        )


def _coerce(name: str, value: Any, default: Any) -> Any:
    refused = InvalidInput(f"setting {name}: {value!r} is not a valid value")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise refused
    if isinstance(default, int):
        if isinstance(value, bool):
            raise refused
        try:
            number = int(value)
        except ValueError:
            raise refused from None
        if number <= 0:
            raise refused
        return number
    return str(value)


def load_settings(
    data_dir: Path, env: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Defaults, then `tabadol.toml` in `data_dir`, then `TABADOL_*`, then `overrides`."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = data_dir / CONFIG_FILE
    if path.exists():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: {exc}") from None
    known = {s.name: s for s in SETTINGS}
    for name in values:
        if name not in known:
            raise InvalidInput(f"{path}: unknown setting {name!r}")
    for name in known:
        key = f"TABADOL_{name.upper()}"
        if key in env:
            values[name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**{n: _coerce(n, v, known[n].default) for n, v in values.items()})
    for name in (
        "default_tlp_org",
        "default_tlp_group",
        "default_tlp_members",
        "default_tlp_public",
    ):
        try:
            TLP.parse(getattr(settings, name))
        except ValueError as exc:
            raise InvalidInput(f"setting {name}: {exc}") from None
    return settings


def write_settings(data_dir: Path, settings: Settings) -> None:
    """Write every setting that differs from its default (the file stays short)."""
    defaults = Settings()
    values = {
        f.name: getattr(settings, f.name)
        for f in fields(settings)
        if getattr(settings, f.name) != getattr(defaults, f.name)
    }
    write_private(data_dir / CONFIG_FILE, tomli_w.dumps(values).encode("utf-8"))


__all__ = ["SETTINGS", "Settings", "load_settings", "replace", "write_settings"]
