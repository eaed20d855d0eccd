"""Per-(annotator, batch) assignment counts and the queue index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:30:00.000000

GET /api/next read an annotator's progress and queue by walking every assignment they
hold. `assignment_counts` keeps, per annotator and batch, how many pairs they hold and how
many they finished (the store's writers update it in the same transaction), and
`ix_assignments_queue` (annotator, batch, completed, skipped, position) makes a batch's
open entries an index range read in queue order; it replaces `ix_assignments_annotator_id`,
its first column. The counts of a store with rows are filled from its assignments.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = (
    "INSERT INTO assignment_counts (annotator_id, batch_id, assigned, done) "
    "SELECT annotator_id, batch_id, count(*), "
    "sum(CASE WHEN completed OR skipped THEN 1 ELSE 0 END) "
    "FROM assignments GROUP BY annotator_id, batch_id"
)
"""The counts of the assignments already stored (booleans are 0/1 on SQLite, bool on
PostgreSQL: `OR` works on both)."""


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "assignment_counts",
        sa.Column("annotator_id", sa.String(length=128), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.annotator_id"],
            name=op.f("fk_assignment_counts_annotator_id_annotators"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.batch_id"],
            name=op.f("fk_assignment_counts_batch_id_batches"),
        ),
        sa.PrimaryKeyConstraint("annotator_id", "batch_id", name=op.f("pk_assignment_counts")),
    )
    op.execute(_FILL)
    # plain CREATE / DROP INDEX: in place on both backends (no batch-mode table copy)
    op.create_index(
        "ix_assignments_queue",
        "assignments",
        ["annotator_id", "batch_id", "completed", "skipped", "position"],
    )
    op.drop_index("ix_assignments_annotator_id", table_name="assignments")


def downgrade() -> None:
    """Revert this revision."""
    op.create_index("ix_assignments_annotator_id", "assignments", ["annotator_id"])
    op.drop_index("ix_assignments_queue", table_name="assignments")
    op.drop_table("assignment_counts")
