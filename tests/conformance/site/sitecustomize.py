"""Loaded by every Python process a test session starts (its directory is put on PYTHONPATH by
tests/conformance/plugin.py): a server or CLI run as a subprocess records what it emits into
the session's directory, as the servers in the test process do. Inert without the variable."""

import os
import sys
from pathlib import Path

_RECORD_DIR = os.environ.get("TABADOL_STIX_RECORD_DIR")
if _RECORD_DIR:
    _ROOT = str(Path(__file__).resolve().parents[3])
    sys.path.insert(0, _ROOT)
    from tests.conformance import instrument, recording

    sys.path.remove(_ROOT)
    instrument.install(recording.FileSink(Path(_RECORD_DIR)))
