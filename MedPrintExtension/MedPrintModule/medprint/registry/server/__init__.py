"""The reference registry server (extra ``[server]``): FastAPI + SQLAlchemy 2 + Alembic, SQLite by
default, PostgreSQL by database URL; per-site tokens, validation with the client's own schema,
idempotent submissions, rate and body limits, a dashboard and CSV export."""
