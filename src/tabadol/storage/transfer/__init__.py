"""Moving a node's data between engines: `migration.py` opens both sides, `copy.py` copies."""
