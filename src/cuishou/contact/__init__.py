"""Contacts (催记): outcome codes, logging a contact attempt, contact-driven alerts."""
