"""The storage code both dialects run: portable SQL over a connection with sqlite3's face
(`sqlite/` gives it SQLite's, `postgres/dialect.py` PostgreSQL's)."""
