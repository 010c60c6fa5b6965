"""The audience tests' PostgreSQL server, shared with the lift readout tests."""

from ..audience.conftest import pg_dsn  # noqa: F401
