"""SQL persistence: models, engine and transactions, Alembic migrations."""
