"""The storage contract's roles in shared SQL, one class each, over `storage.engine.Engine`;
`sql/store.py` combines them into the `Store` an engine's store completes with its search."""
