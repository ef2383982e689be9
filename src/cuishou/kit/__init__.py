"""Small shared building blocks: money, time, identifiers, errors, masking."""
