"""Persistence: SQLAlchemy 2 tables, exact column types, sessions, Alembic migrations.

The domain never sees a row: services map rows to domain objects and back.
"""
