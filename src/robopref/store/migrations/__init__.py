"""Alembic migrations of the annotation store, shipped inside the package."""
