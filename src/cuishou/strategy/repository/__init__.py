"""The strategy domain's queries: versions (lifecycle) and planning (segments, plans)."""
