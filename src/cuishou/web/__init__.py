"""The web edge: FastAPI app factory, per-request transaction, error rendering."""
