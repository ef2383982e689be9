"""The store: SQLAlchemy 2 tables, engine/session, Alembic migrations."""
