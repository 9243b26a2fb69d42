"""Settings: one typed, frozen table with defaults and help; TOML file, then environment.

The data directory holds `tabadol.toml`; any setting can be overridden by the environment
variable `TABADOL_<NAME>` (upper case), which is how tests and containers configure a node.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import ChannelDefaults
from tabadol.domain.tlp import TLP
from tabadol.private_files import write_private

CONFIG_FILE = "tabadol.toml"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    Setting(
        "public_url",
        "",
        "The URL clients reach the node at (`https://cti.example.org`, behind a reverse proxy"
        " its public address): the base of every absolute URL the node writes (TAXII"
        " discovery). Empty: those URLs are relative (`/taxii2/root/`). Never taken from"
        " `Host` or `X-Forwarded-*`.",
    ),
    Setting(
        "trusted_proxies",
        "",
        "Addresses or networks (comma-separated: `127.0.0.1, 10.0.0.0/8`) of reverse proxies"
        " in front of the node. A request from one of them is counted, for sign-in limits and"
        " a session's address, from the nearest `X-Forwarded-For` address that is not a"
        " listed proxy. Empty: the socket's address, `X-Forwarded-For` never read.",
    ),
    Setting(
        "tls_cert_file", "", "PEM certificate chain: `serve` speaks HTTPS (with tls_key_file)."
    ),
    Setting("tls_key_file", "", "PEM private key of tls_cert_file."),
    Setting("log_level", "info", "Log level of the node: critical, error, warning, info, debug."),
    Setting(
        "log_format",
        "text",
        "Log lines as `text` (one line per event) or `json` (one object"
        " per line, with the request id).",
    ),
    Setting(
        "audit_head_interval",
        3600,
        "Seconds between the signed audit tree heads members see (`/api/v1/audit/head`): a"
        " member learns the log's size once per interval, never when a write happens.",
    ),
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
    Setting("session_idle_minutes", 30, "A sign-in session ends after this long unused."),
    Setting("session_absolute_hours", 12, "A sign-in session ends this long after sign-in."),
    Setting("enrolment_link_hours", 72, "How long an enrolment link (`user add`) stays valid."),
    Setting("reset_link_hours", 24, "How long a password reset link (`user reset`) stays valid."),
    Setting(
        "second_factor",
        "admins",
        "Who must have a second factor (TOTP or a passkey): `admins` or `all`. A person who"
        " has one is always asked for it.",
    ),
    Setting(
        "argon2_time_cost",
        2,
        "Argon2id passes over memory for password hashes. With argon2_memory_kib 32768 and"
        " argon2_parallelism 1, one verification costs about 75 ms of CPU on the reference"
        " machine (2 cores; candidates 19456 KiB: 25-30 ms, 32768 KiB: 75 ms, 65536 KiB:"
        " 150 ms): a sign-in stays under 100 ms. Raised parameters apply to new hashes, and"
        " each password is rehashed at its next sign-in.",
    ),
    Setting("argon2_memory_kib", 32768, "Argon2id memory per password hash (KiB)."),
    Setting("argon2_parallelism", 1, "Argon2id lanes per password hash."),
    Setting("personal_token_max_days", 365, "Longest lifetime of a person's personal API token."),
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
    public_url: str = ""
    trusted_proxies: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    log_level: str = "info"
    log_format: str = "text"
    audit_head_interval: int = 3600
    worker_threads: int = 4
    sync_peers: bool = True
    key_secret_file: str = ""
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    enrolment_link_hours: int = 72
    reset_link_hours: int = 24
    second_factor: str = "admins"
    # One verification ~75 ms of CPU on the reference machine (2 cores, `time.process_time`
    # median of 9): 2 passes over 32 MiB, 1 lane. 19 MiB: 25-30 ms; 64 MiB: 150 ms.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 32768
    argon2_parallelism: int = 1
    personal_token_max_days: int = 365

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
    _check_choices(settings)
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


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("text", "json")
SECOND_FACTOR_POLICIES = ("admins", "all")


def _check_choices(settings: Settings) -> None:
    """Settings with a closed set of values, and the public URL's form."""
    if settings.log_level.lower() not in LOG_LEVELS:
        raise InvalidInput(f"setting log_level: one of {', '.join(LOG_LEVELS)}")
    if settings.log_format not in LOG_FORMATS:
        raise InvalidInput(f"setting log_format: one of {', '.join(LOG_FORMATS)}")
    if bool(settings.tls_cert_file) != bool(settings.tls_key_file):
        raise InvalidInput("settings tls_cert_file and tls_key_file go together")
    if settings.public_url:
        check_public_url(settings.public_url)
    proxy_networks(settings.trusted_proxies)
    _check_people(settings)


def proxy_networks(text: str) -> tuple[Network, ...]:
    """The `trusted_proxies` setting as networks (a bare address is a one-address network)."""
    found = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise InvalidInput(
                f"setting trusted_proxies: {item!r} is not an address or a network"
            ) from None
    return tuple(found)


def _check_people(settings: Settings) -> None:
    """The people settings: a closed policy, and Argon2 parameters the library accepts."""
    if settings.second_factor not in SECOND_FACTOR_POLICIES:
        raise InvalidInput(f"setting second_factor: one of {', '.join(SECOND_FACTOR_POLICIES)}")
    if settings.argon2_parallelism > 64:
        raise InvalidInput("setting argon2_parallelism: at most 64")
    if settings.argon2_memory_kib < 8 * settings.argon2_parallelism:
        raise InvalidInput("setting argon2_memory_kib: at least 8 KiB per lane of parallelism")
    if settings.argon2_memory_kib > 4 * 1024 * 1024:
        raise InvalidInput("setting argon2_memory_kib: at most 4194304 (4 GiB)")
    if settings.session_idle_minutes > settings.session_absolute_hours * 60:
        raise InvalidInput("setting session_idle_minutes: no longer than session_absolute_hours")


def check_public_url(url: str) -> str:
    """An http(s) URL with a host and no query, fragment or credentials; without its
    trailing slash (the node appends its paths)."""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise InvalidInput(
            f"setting public_url: {url!r} is not an http(s) URL with a host, without query,"
            " fragment or credentials"
        )
    return url.rstrip("/")


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
