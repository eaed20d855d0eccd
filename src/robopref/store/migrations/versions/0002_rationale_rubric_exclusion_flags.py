"""Calibration rationale, rubric batches, annotator exclusion and ranking flags.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:15:45.735660

Adds `pairs.rationale`, `batches.rubric`, `annotators.excluded` and `ranking_items.flags`.
The booleans get a server default of false so rows written under 0001 read as "no rubric"
and "not excluded". Every change is an in-place `ADD COLUMN` / `DROP COLUMN` on both
backends (SQLite ≥ 3.35 for the downgrade).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FALSE = "0"
"""Server default of the new booleans, as a plain literal: PostgreSQL reads '0' as false, and
SQLite adds a column with a literal default in place (an expression such as `sa.false()`
would make batch mode copy the table, and dropping the old `annotators` fails while other
tables' foreign keys point at it)."""


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("annotators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excluded", sa.Boolean(), server_default=_FALSE, nullable=False)
        )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rubric", sa.Boolean(), server_default=_FALSE, nullable=False)
        )
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rationale", sa.Text(), nullable=True))
    with op.batch_alter_table("ranking_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision.

    Plain `DROP COLUMN` (in place on SQLite ≥ 3.35): batch mode's copy-and-move would drop
    `annotators` and `batches` while other tables' foreign keys still point at them.
    """
    op.drop_column("ranking_items", "flags")
    op.drop_column("pairs", "rationale")
    op.drop_column("batches", "rubric")
    op.drop_column("annotators", "excluded")
