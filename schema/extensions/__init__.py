"""Cross-cutting GraphQL concerns, one small extension per file."""
