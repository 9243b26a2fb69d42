"""Indicators in free text: IPs, domains, URLs, e-mail addresses, hashes, CVE ids and crypto
wallets — in Persian, Arabic or English sentences, defanged or not, with any digits.

The text is first made indicator-safe, never language-normalized (a language normalizer
rewrites digits and punctuation that indicators depend on): Persian and Arabic-Indic digits
become ASCII, the Arabic decimal separator a dot, invisible characters (ZWNJ, ZWJ, bidi
controls, soft hyphens) are removed, and defanging is undone (hxxp, [.], (dot), [at] …).
Candidates are then matched and validated: IPs with `ipaddress` (private, loopback,
documentation and other non-global ranges left out unless asked for), domains against the
public suffix list (`tldextract`'s bundled snapshot, no network), wallets only when their
checksum holds (Base58Check, bech32/bech32m, EIP-55, Monero's Keccak checksum).

Written here because the maintained extractors miss what a Persian/Arabic community writes:
iocextract and iocsearcher do not read Persian digits or Arabic separators, and neither
validates Monero or Tron checksums (see bench/README.md for the comparison).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import base58
import tldextract
from Crypto.Hash import keccak
from embit.bech32 import decode as segwit_decode  # type: ignore[import-untyped]

TYPES = (
    "ipv4",
    "ipv6",
    "domain",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "cve",
    "btc",
    "eth",
    "xmr",
    "trx",
)


@dataclass(frozen=True, slots=True)
class Indicator:
    type: str
    value: str


# --- making text indicator-safe ---------------------------------------------------------------
_INVISIBLE = (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x200E, 0x200F, 0x061C)
_SAFE: dict[int, str | None] = {cp: None for cp in _INVISIBLE}
_SAFE.update({cp: None for cp in range(0x202A, 0x202F)})
_SAFE.update({cp: None for cp in range(0x2066, 0x206A)})
_SAFE.update({0x0660 + i: str(i) for i in range(10)})
_SAFE.update({0x06F0 + i: str(i) for i in range(10)})
_SAFE.update({0x066B: ".", 0x06D4: ".", 0x3002: ".", 0xFF0E: ".", 0xFF61: "."})

_REFANG = [
    (re.compile(r"h[xX]{2}p(s?)(?=[:\[(])", re.IGNORECASE), r"http\1"),
    (re.compile(r"f[xX]p(?=[:\[(])", re.IGNORECASE), "ftp"),
    (re.compile(r"\[\s*:\s*\]|\(\s*:\s*\)"), ":"),
    (
        re.compile(
            r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.IGNORECASE
        ),
        ".",
    ),
    (re.compile(r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)|\{\s*(?:@|at)\s*\}", re.IGNORECASE), "@"),
    (re.compile(r"\[/\]"), "/"),
    (re.compile(r":\[//\]|\[://\]"), "://"),
]


_SPACED_DOT = re.compile(r"\s+[\[(]\s*dot\s*[\])]\s+", re.IGNORECASE)
# Whitespace-separated pieces that can hold an indicator: a digit (any script), a dot, a colon
# or an at sign, or a long run (hashes and wallets). Prose is mostly neither, so the patterns
# below run over a fraction of the text (measured: 2.5 -> more than 5 MB/s).
_DIGITS = r"0-9\u0660-\u0669\u06f0-\u06f9"
_DOTS = r".\u066b\u06d4\u3002\uff0e\uff61"
_CANDIDATE = re.compile(  # tried at the start of each piece only: one pass over the text
    rf"(?<!\S)(?:\S*?[{_DIGITS}@:]"  # a digit, an at sign or a colon
    rf"|\S*?[{_DOTS}][A-Za-z0-9{_DIGITS}\[(\])}}]"  # a dot inside (not a full stop)
    r"|\S*?[\[({](?:dot|at)[\])}]"  # defanged
    r"|(?=\S{25}))\S*"  # long enough for a hash or a wallet
)


def indicator_safe(text: str) -> str:
    """The pieces of `text` that can hold indicators, one per line, with the forms
    indicators take made plain (no language normalization)."""
    text = unicodedata.normalize("NFKC", text)
    if "dot" in text or "DOT" in text:
        text = _SPACED_DOT.sub(".", text)
    text = "\n".join(_CANDIDATE.findall(text)).translate(_SAFE)
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


# --- candidates -----------------------------------------------------------------------------
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Boundaries are ASCII: indicators are glued to Persian and Arabic words ("evil.comرا"), where
# a Unicode \b or \w would see one word.
_A = "A-Za-z0-9"
_NOT_BEFORE = rf"(?<![{_A}])"
_NOT_AFTER = rf"(?![{_A}])"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "url",
        re.compile(rf"{_NOT_BEFORE}(?:https?|ftp)://[^\s<>\"'`،؛()\[\]{{}}|\\^]+", re.IGNORECASE),
    ),
    (
        "email",
        re.compile(
            rf"(?<![{_A}._%+-])[{_A}][{_A}._%+-]{{0,63}}@(?:[{_A}-]{{1,63}}\.)+[A-Za-z]{{2,63}}"
            rf"(?![{_A}-]|\.[{_A}])"
        ),
    ),
    ("ipv4", re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\d|\.\d)")),
    (
        "ipv6",
        re.compile(r"(?<![0-9A-Za-z:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![0-9A-Za-z:])"),
    ),
    ("cve", re.compile(rf"{_NOT_BEFORE}CVE-\d{{4}}-\d{{4,7}}(?!\d)", re.IGNORECASE)),
    ("sha256", re.compile(rf"{_NOT_BEFORE}[0-9a-fA-F]{{64}}{_NOT_AFTER}")),
    ("sha1", re.compile(rf"{_NOT_BEFORE}[0-9a-fA-F]{{40}}{_NOT_AFTER}")),
    ("md5", re.compile(rf"{_NOT_BEFORE}[0-9a-fA-F]{{32}}{_NOT_AFTER}")),
    ("eth", re.compile(rf"{_NOT_BEFORE}0x[0-9a-fA-F]{{40}}{_NOT_AFTER}")),
    (
        "btc-bech32",
        re.compile(rf"{_NOT_BEFORE}(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{{11,71}}{_NOT_AFTER}"),
    ),
    ("btc-base58", re.compile(rf"{_NOT_BEFORE}[13][{_B58}]{{25,34}}{_NOT_AFTER}")),
    ("trx", re.compile(rf"{_NOT_BEFORE}T[{_B58}]{{33}}{_NOT_AFTER}")),
    ("xmr", re.compile(rf"{_NOT_BEFORE}[48][{_B58}]{{94}}(?:[{_B58}]{{11}})?{_NOT_AFTER}")),
    (
        "domain",
        re.compile(
            rf"(?<![{_A}_@.-])(?:[{_A}](?:[{_A}-]{{0,61}}[{_A}])?\.)+[A-Za-z][{_A}-]{{1,62}}"
            rf"(?![{_A}_-]|\.[{_A}])"
        ),
    ),
]
_TRAILING = ".,;:!?)]}>»\"'،؛؟"


# --- validation -----------------------------------------------------------------------------
_SUFFIXES = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
)


def warm_up() -> None:
    """Load the public suffix list now (25-40 ms) rather than inside the first write."""
    _SUFFIXES("example.com")


@lru_cache(maxsize=65_536)
def _registrable(host: str) -> bool:
    parts = _SUFFIXES(host)
    return bool(parts.suffix) and bool(parts.domain)


# Top-level domains that are also common file extensions: a bare "name.md" in a report is far
# more often a file than a Moldovan domain.
_FILE_LIKE_SUFFIXES = frozenset({"md", "zip", "mov", "sh", "py", "rs", "pl", "ps", "cs", "so"})


def _global_ip(value: str, version: int, allow_private: bool) -> str | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version != version:
        return None
    if not allow_private and not address.is_global:
        return None
    return str(address)


def _base58check(value: str, versions: set[int]) -> bool:
    try:
        raw = base58.b58decode_check(value)
    except ValueError:
        return False
    return len(raw) == 21 and raw[0] in versions


def _bech32(value: str) -> bool:
    if value != value.lower() and value != value.upper():
        return False  # mixed case is invalid in bech32
    # witness v0 with a bech32 checksum, v1+ (Taproot) with bech32m, as BIP 350 requires
    version, program = segwit_decode("bc", value.lower())
    return version is not None and program is not None


def _keccak(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def _eip55(value: str) -> bool:
    body = value[2:]
    if body == body.lower() or body == body.upper():
        return True  # no checksum written: nothing to check
    digest = _keccak(body.lower().encode()).hex()
    return all(
        (c.upper() if int(digest[i], 16) >= 8 else c.lower()) == c for i, c in enumerate(body)
    )


# Monero's Base58 works on blocks of 8 bytes -> 11 characters (the last block shorter);
# no package implements it, so it is written here.
_XMR_BLOCK_SIZES = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}


def _monero_decode(text: str) -> bytes | None:
    out = bytearray()
    for start in range(0, len(text), 11):
        block = text[start : start + 11]
        size = _XMR_BLOCK_SIZES.get(len(block))
        if size is None:
            return None
        number = 0
        for char in block:
            number = number * 58 + _B58.index(char)
        if number >= 1 << (8 * size):
            return None
        out += number.to_bytes(size, "big")
    return bytes(out)


def _monero(value: str) -> bool:
    raw = _monero_decode(value)
    if raw is None or len(raw) not in (69, 77):
        return False
    body, checksum = raw[:-4], raw[-4:]
    return _keccak(body)[:4] == checksum and body[0] in (18, 19, 42)


def _validate(kind: str, value: str, allow_private: bool) -> Indicator | None:
    if kind == "url":
        value = value.rstrip(_TRAILING)
        scheme, _, rest = value.partition("://")
        authority, slash, path = rest.partition("/")
        host = authority.rsplit("@", 1)[-1].split(":")[0].lower()
        if not (_global_ip(host, 4, allow_private) or _registrable(host)):
            return None
        return Indicator("url", f"{scheme.lower()}://{authority.lower()}{slash}{path}")
    if kind == "email":
        local, _, domain = value.rpartition("@")
        domain = domain.lower()
        return Indicator("email", f"{local.lower()}@{domain}") if _registrable(domain) else None
    if kind == "ipv4":
        checked = _global_ip(value, 4, allow_private)
        return Indicator("ipv4", checked) if checked else None
    if kind == "ipv6":
        checked = _global_ip(value, 6, allow_private)
        return Indicator("ipv6", checked) if checked else None
    if kind == "cve":
        return Indicator("cve", value.upper())
    if kind in ("md5", "sha1", "sha256"):
        return Indicator(kind, value.lower())
    if kind == "eth":
        return Indicator("eth", value.lower()) if _eip55(value) else None
    if kind == "btc-bech32":
        return Indicator("btc", value.lower()) if _bech32(value) else None
    if kind == "btc-base58":
        return Indicator("btc", value) if _base58check(value, {0x00, 0x05}) else None
    if kind == "trx":
        return Indicator("trx", value) if _base58check(value, {0x41}) else None
    if kind == "xmr":
        return Indicator("xmr", value) if _monero(value) else None
    if kind == "domain":
        value = value.lower().rstrip(".")
        if value.rsplit(".", 1)[-1] in _FILE_LIKE_SUFFIXES:
            return None  # readme.md, notes.zip: taken as domains only inside URLs / e-mails
        return Indicator("domain", value) if _registrable(value) else None
    return None


def _spans(text: str) -> Iterator[tuple[int, int, str, str]]:
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            yield match.start(), match.end(), kind, match.group()


def _host_of(indicator: Indicator, allow_private: bool) -> Indicator | None:
    """The host of a URL or the domain of an e-mail address, as an indicator of its own: the
    same domain or address seen bare in another report correlates with it."""
    if indicator.type == "email":
        domain = indicator.value.rpartition("@")[2]
        return Indicator("domain", domain) if _registrable(domain) else None
    authority = indicator.value.partition("://")[2].partition("/")[0].rsplit("@", 1)[-1]
    if authority.startswith("["):  # [2001:db8::1]:443
        checked = _global_ip(authority[1:].partition("]")[0], 6, allow_private)
        return Indicator("ipv6", checked) if checked else None
    host = authority.split(":")[0].rstrip(".")
    checked = _global_ip(host, 4, allow_private)
    if checked:
        return Indicator("ipv4", checked)
    return Indicator("domain", host) if _registrable(host) else None


def extract(text: str, *, allow_private: bool = False) -> list[Indicator]:
    """Every indicator in `text`, once each, in order of first appearance. A match inside
    a longer indicator is not taken alone, but a URL brings its host (domain or address) and
    an e-mail address its domain, right after it."""
    safe = indicator_safe(text)
    if not safe:
        return []
    spans = sorted(_spans(safe), key=lambda span: (span[0], span[0] - span[1]))
    covered_until = -1  # the end of the accepted indicators so far (spans come by start)
    found: dict[Indicator, None] = {}  # ordered, without repeats
    for _start, end, kind, value in spans:
        if end <= covered_until:
            continue
        indicator = _validate(kind, value, allow_private)
        if indicator is None:
            continue
        covered_until = max(covered_until, end)
        found.setdefault(indicator)
        if indicator.type in ("url", "email"):
            host = _host_of(indicator, allow_private)
            if host is not None:
                found.setdefault(host)
    return list(found)
