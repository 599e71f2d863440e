"""Intake's SQL: one module per table group, each returning domain objects (never asyncpg
Records); ports.py holds the repository and UnitOfWork Protocols the use cases depend on,
unit_of_work.py the PostgreSQL unit of work; locks.py the advisory-lock keys, sql.py the filter
builder."""
