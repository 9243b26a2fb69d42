"""The text benchmark: indicator extraction against iocextract and iocsearcher, and search
normalization against hazm.

On the labeled cases (`tests/data/extraction_cases.tsv`: Persian, Arabic and English text,
defanged forms, Persian and Arabic-Indic digits, wallets with and without valid checksums,
private addresses that are not shareable) it counts precision and recall of each tool. On a
10 MB mixed corpus (the cases between paragraphs of prose in the three languages) it times
tabadol on one core, and the other tools on its first megabyte (iocsearcher needs minutes
per MB). The two other tools run in their own venv (bench/.venv-ioc, gitignored), as
medallion does, so that their pins never touch tabadol's environment. Both labeled sets are
scored: ours (`tests/data/*_cases.tsv`) and the held-out one written without seeing the code
(`*_cases_independent.tsv`). Normalization: the matching rule of the tests
(`tests/unit/test_text_normalize.matches`) with our tokenizer, and the same rule with hazm's
Normalizer + Stemmer (from `.venv-hazm`, which `make test` creates).

    .venv/bin/python bench/text_bench.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV = BENCH / ".venv-ioc"
REQUIREMENTS = ["iocextract==1.16.1", "iocsearcher==3.1.0", "requests"]
DATA = ROOT / "tests" / "data"
CASES = DATA / "extraction_cases.tsv"
INDEPENDENT = DATA / "extraction_cases_independent.tsv"
TEXT_SETS = {"ours": DATA / "text_cases.tsv", "held-out": DATA / "text_cases_independent.tsv"}
HAZM = ROOT / ".venv-hazm" / "bin" / "python"
CORPUS_BYTES = 10_000_000
OTHERS_MB = 1  # iocsearcher takes minutes per MB: the others are timed on the first MB
PROSE = (
    "گزارش هفتگی مرکز ماهر درباره حملات فیشینگ علیه بانک‌ها و سازمان‌های دولتی منتشر شد. "
    "تقرير أسبوعي عن الهجمات على المؤسسات المالية والحكومية في المنطقة. "
    "The weekly report covers phishing campaigns against banks and ministries. "
)

# Run inside the venv: read [text, …] on stdin, print [{tool: [[type, value], …]}, …] and the
# seconds each tool took over all texts.
_RUNNER = r"""
import json, sys, time
import iocextract
from iocsearcher.searcher import Searcher
texts = json.load(sys.stdin)
NAMES = {"ip4": "ipv4", "ip6": "ipv6", "fqdn": "domain", "url": "url", "email": "email",
         "md5": "md5", "sha1": "sha1", "sha256": "sha256", "cve": "cve", "bitcoin": "btc",
         "ethereum": "eth", "monero": "xmr", "tron": "trx"}
def ioce(text):
    found = set()
    for kind, fn in (("ipv4", iocextract.extract_ipv4s), ("url", iocextract.extract_urls),
                     ("email", iocextract.extract_emails)):
        for value in fn(text, refang=True):
            found.add((kind, value))
    for kind, fn in (("ipv6", iocextract.extract_ipv6s), ("md5", iocextract.extract_md5_hashes),
                     ("sha1", iocextract.extract_sha1_hashes),
                     ("sha256", iocextract.extract_sha256_hashes)):
        for value in fn(text):
            found.add((kind, value))
    return sorted(found)
searcher = Searcher()
def iocs(text):
    return sorted({(NAMES[i.name], i.value) for i in searcher.search_data(text) if i.name in NAMES})
out = {}
for name, fn in (("iocextract", ioce), ("iocsearcher", iocs)):
    started = time.perf_counter()
    out[name] = {"found": [fn(t) for t in texts[:-1]]}
    corpus = texts[-1]
    started = time.perf_counter()
    fn(corpus)
    out[name]["corpus_seconds"] = time.perf_counter() - started
print(json.dumps(out))
"""


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import iocextract, iocsearcher.searcher"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
    pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *REQUIREMENTS], check=True, timeout=1800)
    return python


def load_cases(path: Path = CASES) -> list[tuple[str, set[str]]]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        text, expected, *_ = line.split("\t")
        cases.append((text, set(expected.split())))
    return cases


def normalization_scores() -> dict[str, Any]:
    """Precision and recall of search matching on both labeled sets, ours and hazm's."""
    sys.path.insert(0, str(ROOT))
    from tests.unit.test_text_hazm import _hazm, _hazm_matches
    from tests.unit.test_text_normalize import _cases, matches

    results: dict[str, Any] = {}
    for name, path in TEXT_SETS.items():
        cases = _cases(path)
        ours = [(matches(q, d), want) for q, d, want, _ in cases]
        entry = {"cases": len(cases), "tabadol": _pr(ours)}
        if HAZM.exists():
            texts = sorted({t for q, d, *_ in cases for t in (q, d)})
            view = dict(zip(texts, _hazm(texts), strict=True))
            entry["hazm"] = _pr([(_hazm_matches(view, q, d), want) for q, d, want, _ in cases])
        results[name] = entry
    return results


def _pr(results: list[tuple[bool, bool]]) -> dict[str, float]:
    tp = sum(1 for got, want in results if got and want)
    fp = sum(1 for got, want in results if got and not want)
    fn = sum(1 for got, want in results if want and not got)
    return {"precision": round(tp / (tp + fp), 3), "recall": round(tp / (tp + fn), 3)}


def corpus(cases: list[tuple[str, set[str]]]) -> str:
    parts, size, i = [], 0, 0
    while size < CORPUS_BYTES:
        piece = PROSE * 3 + cases[i % len(cases)][0] + " "
        parts.append(piece)
        size += len(piece.encode())
        i += 1
    return "".join(parts)


def canonical(kind: str, value: str) -> str:
    """The labeled set's canonical form, so tools that differ only in case are not penalized."""
    if kind in ("domain", "email", "md5", "sha1", "sha256", "eth", "ipv6") or (
        kind == "btc" and value.lower().startswith("bc1")
    ):
        value = value.lower()
    if kind == "cve":
        value = value.upper()
    if kind == "url" and "://" in value:
        scheme, rest = value.split("://", 1)
        host, slash, path = rest.partition("/")
        value = f"{scheme.lower()}://{host.lower()}{slash}{path}"
    return f"{kind}:{value}"


def score(found: list[set[str]], cases: list[tuple[str, set[str]]]) -> dict[str, Any]:
    tp = fp = fn = 0
    exact = 0
    for got, (_, expected) in zip(found, cases, strict=True):
        tp += len(got & expected)
        fp += len(got - expected)
        fn += len(expected - got)
        exact += got == expected
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
        "cases_exactly_right": exact,
        "cases": len(cases),
    }


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from tabadol.text.extract import extract

    cases = load_cases()
    held_out = load_cases(INDEPENDENT)
    text = corpus(cases)
    mb = len(text.encode()) / 1e6
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        extract(text)
        runs.append(time.perf_counter() - started)
    ours = [{f"{i.type}:{i.value}" for i in extract(t)} for t, _ in cases]
    ours_held_out = [{f"{i.type}:{i.value}" for i in extract(t)} for t, _ in held_out]
    sample = text[: len(text) * OTHERS_MB // 10]  # the other tools are timed on 1 MB
    python = ensure_venv()
    done = subprocess.run(
        [str(python), "-c", _RUNNER],
        input=json.dumps([t for t, _ in cases + held_out] + [sample]),
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    others = json.loads(done.stdout)
    results: dict[str, Any] = {
        "command": "bench/text_bench.py",
        "cases": len(cases),
        "corpus_mb": round(mb, 1),
        "tabadol": {
            **score(ours, cases),
            "held_out": score(ours_held_out, held_out),
            "mb_per_s": round(mb / statistics.median(runs), 1),
        },
    }
    for name, out in others.items():
        found = [{canonical(k, v) for k, v in items} for items in out["found"]]
        sample_mb = len(sample.encode()) / 1e6
        results[name] = {
            **score(found[: len(cases)], cases),
            "held_out": score(found[len(cases) :], held_out),
            "mb_per_s": round(sample_mb / out["corpus_seconds"], 2),
        }
    results["normalization"] = normalization_scores()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "text.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
