"""Promises to pay (承诺还款, PTP)."""
