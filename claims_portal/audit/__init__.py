"""The append-only, hash-chained audit trail used by every feature."""
