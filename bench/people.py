"""The people benchmark: what a sign-in costs the server, and what a session adds to a request.

1. Sign-in CPU. The node's Argon2id parameters (the settings' defaults) and a few others,
   timed with `time.process_time()` (CPU of this process, not wall time): one password
   verification, and a whole password sign-in through the use case (look-up, verify,
   counters, session row, audit entry). Also the wall time of a sign-in with an unknown
   e-mail beside one with a wrong password: the two answers must cost about the same, or
   timing tells which addresses have accounts.
2. A request with a session beside one with a bearer token. In process: the principal from
   a session secret (`sessions.session_principal`) and from a bearer token
   (`principals.authenticate`), each the one query it is. Over HTTP, against a real
   `tabadol serve`: `GET /api/v1/whoami` with the session cookie and with the bearer token,
   interleaved request by request on one keep-alive connection so drift hits both alike.

    .venv/bin/python bench/people.py [--requests 3000] [--signins 30]

Targets (issue 15): a sign-in costs the server <= 100 ms of CPU; a request with a session
adds <= 1 ms over a bearer token at p50.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from servers import running, start_tabadol
from tabadol.config import Settings
from tabadol.domain.errors import TabadolError
from tabadol.node.node import Node, init_node, open_node
from tabadol.usecases.membership import api_tokens, organizations
from tabadol.usecases.membership.principals import OPERATOR, authenticate
from tabadol.usecases.people import accounts, enrolment, passwords, sessions, sign_in
from tabadol.web.cookies import SESSION_COOKIE

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PASSWORD = "a long enough bench password"
ADDRESS = "192.0.2.77"
DEFAULTS = Settings()
CANDIDATES = [  # (time cost, memory KiB, lanes): the default, and its neighbours
    (DEFAULTS.argon2_time_cost, DEFAULTS.argon2_memory_kib, DEFAULTS.argon2_parallelism),
    (3, 65536, 4),  # argon2-cffi's own default (RFC 9106's second recommendation, 64 MiB)
    (2, 19456, 1),  # OWASP's minimum (19 MiB, t=2)
    (1, 47104, 1),  # OWASP's alternative (46 MiB, t=1)
]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": _ms(statistics.median(ordered)),
        "p95_ms": _ms(ordered[max(0, round(0.95 * len(ordered)) - 1)]),
        "n": len(ordered),
    }


def _cpu(call: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.process_time()
        call()
        samples.append(time.process_time() - start)
    return samples


def _wall(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    with contextlib.suppress(TabadolError):  # a refused sign-in is the point here
        call()
    return time.perf_counter() - start


def argon2_costs(runs: int) -> list[dict[str, Any]]:
    """CPU of one verification for each candidate set of parameters."""
    rows = []
    for t, m, p in CANDIDATES:
        hasher = passwords._hasher(t, m, p)
        stored = hasher.hash(PASSWORD)
        rows.append(
            {
                "time_cost": t,
                "memory_kib": m,
                "parallelism": p,
                "default": (t, m, p) == CANDIDATES[0],
                "verify_cpu": _summary(
                    _cpu(lambda h=hasher, s=stored: h.verify(s, PASSWORD), runs)
                ),
            }
        )
    return rows


def _person(node: Node, org: str, email: str) -> None:
    invitation = accounts.invite(node, OPERATOR, org, email, "publisher")
    secret = invitation.url.rsplit("/", 1)[1]
    enrolment.redeem(node, secret, PASSWORD)


def sign_in_costs(data_dir: Path, runs: int) -> dict[str, Any]:
    """A whole password sign-in through the use case, CPU; unknown e-mail vs wrong password,
    wall time (alternated, each from its own address so no counter locks it)."""
    node = open_node(data_dir)
    try:
        ok = _cpu(
            lambda: sign_in.sign_in(node, "reader@bench.example", PASSWORD, address=ADDRESS), runs
        )
        unknown, wrong = [], []
        for i in range(runs):
            unknown.append(
                _wall(
                    lambda i=i: sign_in.sign_in(
                        node, f"nobody{i}@bench.example", PASSWORD, address=f"198.51.100.{i % 250}"
                    )
                )
            )
            wrong.append(
                _wall(
                    lambda i=i: sign_in.sign_in(
                        node,
                        f"wrong{i % 4}@bench.example",
                        "not the password!",
                        address=f"203.0.113.{i % 250}",
                    )
                )
            )
        return {
            "sign_in_cpu": _summary(ok),
            "unknown_email_wall": _summary(unknown),
            "wrong_password_wall": _summary(wrong),
        }
    finally:
        node.close()


def auth_in_process(data_dir: Path, session_secret: str, token: str, n: int) -> dict[str, Any]:
    node = open_node(data_dir)
    try:
        header = f"Bearer {token}"
        by_session, by_token = [], []
        for _ in range(n):
            start = time.perf_counter()
            sessions.session_principal(node, session_secret)
            by_session.append(time.perf_counter() - start)
            start = time.perf_counter()
            authenticate(node, header)
            by_token.append(time.perf_counter() - start)
        return {"session": _summary(by_session), "bearer": _summary(by_token)}
    finally:
        node.close()


def auth_over_http(
    data_dir: Path, session_secret: str, token: str, n: int, log: Path
) -> dict[str, Any]:
    with running(start_tabadol(data_dir, log), "/taxii2/") as server:
        url = f"{server.base_url}/api/v1/whoami"
        by_session, by_token = [], []
        with httpx.Client(timeout=30) as client:
            for _ in range(50):  # warm both paths
                client.get(url, headers={"Authorization": f"Bearer {token}"})
                client.get(url, headers={"Cookie": f"{SESSION_COOKIE}={session_secret}"})
            for _ in range(n):
                start = time.perf_counter()
                answer = client.get(url, headers={"Cookie": f"{SESSION_COOKIE}={session_secret}"})
                by_session.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
                start = time.perf_counter()
                answer = client.get(url, headers={"Authorization": f"Bearer {token}"})
                by_token.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
    return {"session": _summary(by_session), "bearer": _summary(by_token)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--signins", type=int, default=30)
    args = parser.parse_args()
    results: dict[str, Any] = {"argon2": argon2_costs(args.signins)}
    with tempfile.TemporaryDirectory(prefix="tabadol-people-bench-") as tmp:
        data_dir = Path(tmp) / "node"
        init_node(data_dir)
        node = open_node(data_dir)
        try:
            organizations.add_org(node, "Bench CERT")
            _person(node, "Bench CERT", "reader@bench.example")
            for i in range(4):
                _person(node, "Bench CERT", f"wrong{i}@bench.example")
            _, token = api_tokens.create_token(node, OPERATOR, "Bench CERT", "publisher")
            session_secret = sign_in.sign_in(
                node, "reader@bench.example", PASSWORD, address=ADDRESS
            ).secret
        finally:
            node.close()
        results.update(sign_in_costs(data_dir, args.signins))
        results["auth_in_process"] = auth_in_process(data_dir, session_secret, token, args.requests)
        results["auth_http"] = auth_over_http(
            data_dir, session_secret, token, args.requests, Path(tmp) / "server.log"
        )
    http = results["auth_http"]
    results["session_over_bearer_p50_ms"] = round(
        http["session"]["p50_ms"] - http["bearer"]["p50_ms"], 3
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "people.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
