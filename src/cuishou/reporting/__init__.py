"""Reporting (报表): the manager's overview — portfolio by bucket, today's work, recovery."""
