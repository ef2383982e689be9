"""Creditors (委托方): the institution whose debts are collected, and its settings."""
