"""Alerts (预警) for team leads: list, acknowledge, resolve."""
