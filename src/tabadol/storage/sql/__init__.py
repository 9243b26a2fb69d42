"""The storage code both engines run: portable SQL over `storage.engine.Connection`.

The statements, as `*_txn` functions by concern (`versions`, `keys`, `audit`, `federation`,
`queries`), `rows` (records read by field name), and the contract's roles over them
(`roles/`), which `store.SqlStore` combines."""
