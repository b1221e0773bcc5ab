"""Social listening ingest: X, exported posts, signed webhook pushes, one pipeline."""
