"""Storage adapters: SQLAlchemy 2 async on Supabase Postgres (asyncpg) or SQLite (aiosqlite)."""
