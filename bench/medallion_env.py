"""medallion, the OASIS TAXII 2.1 reference server, as the baseline — isolated in its own venv.

medallion pins Flask and friends; installing it next to tabadol could change what tabadol
runs on, so it lives in bench/.venv-medallion (gitignored), created on first use. It runs
with its memory backend, loaded from a JSON data file holding one API root and one
collection, and basic-auth users from its config (medallion 3.x).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-medallion"
REQUIREMENT = "medallion==3.0.0"
API_ROOT = "api1"
COLLECTION_ID = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "bench", "bench-password"
MAX_PAGE = 1000
MAX_CONTENT_LENGTH = 100 * 1024 * 1024


def python() -> Path:
    return VENV / "bin" / "python"


def _installed_version() -> str | None:
    if not python().exists():
        return None
    done = subprocess.run(
        [str(python()), "-c", "import medallion; print(medallion.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_installed() -> str:
    """Create the venv and `pip install medallion` once; return the installed version."""
    version = _installed_version()
    if version is not None:
        return version
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
    pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, REQUIREMENT], check=True, timeout=900)
    version = _installed_version()
    if version is None:
        raise RuntimeError(f"medallion did not import from {VENV}")
    return version


def _data(port: int) -> dict[str, object]:
    """The memory backend's initial content: discovery, one API root, one empty collection."""
    root_url = f"http://127.0.0.1:{port}/{API_ROOT}/"
    return {
        "/discovery": {
            "title": "medallion (benchmark baseline)",
            "description": "memory backend",
            "default": root_url,
            "api_roots": [root_url],
        },
        API_ROOT: {
            "information": {
                "title": "bench",
                "description": "benchmark API root",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": MAX_CONTENT_LENGTH,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION_ID,
                    "title": "bench",
                    "description": "benchmark collection",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }


def write_config(directory: Path, port: int) -> Path:
    """Write the data file and the server config; return the config's path."""
    directory.mkdir(parents=True, exist_ok=True)
    data_file = directory / "medallion-data.json"
    data_file.write_text(json.dumps(_data(port)))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_file),
            # a full read's first page takes a minute; keep its `next` alive well past that
            "session_timeout": 3600,
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": MAX_PAGE},
    }
    path = directory / "medallion-config.json"
    path.write_text(json.dumps(config))
    return path
