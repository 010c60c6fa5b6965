"""Core operations: stage and ledger operations, the write pipeline, and the Engine facade."""
