"""Runs inside .venv-hazm: reads a JSON list of strings on stdin, writes hazm's view of each.

For every string: hazm's `Normalizer().normalize`, its whitespace tokens, and each token's
`Stemmer().stem`. The test that compares runs this once for all its strings.
"""

import json
import sys

from hazm import Normalizer, Stemmer

normalizer = Normalizer()
stemmer = Stemmer()
out = []
for text in json.load(sys.stdin):
    normal = normalizer.normalize(text)
    tokens = normal.split()
    out.append({"normal": normal, "tokens": tokens, "stems": [stemmer.stem(t) for t in tokens]})
json.dump(out, sys.stdout, ensure_ascii=False)
