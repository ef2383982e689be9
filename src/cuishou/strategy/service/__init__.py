"""The strategy domain's services: lifecycle (versions) and planning (the daily step)."""
