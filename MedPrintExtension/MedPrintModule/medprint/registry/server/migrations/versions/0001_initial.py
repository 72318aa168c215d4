"""Initial registry schema: sites, tokens, cases, aggregates.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade():
    op.create_table(
        "sites",
        sa.Column("site_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("cost_per_or_minute", sa.Float, nullable=False, server_default="62"),
        sa.Column("minutes_per_model", sa.Float, nullable=False, server_default="62"),
        sa.Column("minutes_per_guide", sa.Float, nullable=False, server_default="23"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("sites.site_id"), nullable=True),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("sites.site_id"), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rolled_up", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("site_id", "idempotency_key", name="uq_cases_site_key"),
        sa.UniqueConstraint("site_id", "case_id", name="uq_cases_site_case"),
    )
    op.create_index("ix_cases_site_received", "cases", ["site_id", "id"])
    op.create_index("ix_cases_not_rolled_up", "cases", ["id"], postgresql_where=sa.text("rolled_up = false"),
                    sqlite_where=sa.text("rolled_up = 0"))
    op.create_table(
        "agg",
        sa.Column("site_id", sa.String(32), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("dim", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
    )


def downgrade():
    op.drop_table("agg")
    op.drop_index("ix_cases_not_rolled_up", table_name="cases")
    op.drop_index("ix_cases_site_received", table_name="cases")
    op.drop_table("cases")
    op.drop_table("tokens")
    op.drop_table("sites")
