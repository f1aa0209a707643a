"""Builds the service on the configured store. The CLI, the HTTP API and tests use this."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from api.settings import Settings
from domain.clock import Clock
from workflows import pg_append
from workflows.evidence import BlobStore
from workflows.policy import Policy
from workflows.rules import load_rules
from workflows.service import HazardCases


def store_env(settings: Settings) -> dict[str, str]:
    """eventsourcing's environment keys for the configured store."""
    if settings.database_url:
        info = conninfo_to_dict(settings.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(info.get("dbname") or info.get("user") or "postgres"),
            "POSTGRES_HOST": str(info.get("host") or "localhost"),
            "POSTGRES_PORT": str(info.get("port") or "5432"),
            "POSTGRES_USER": str(info.get("user") or "postgres"),
            "POSTGRES_PASSWORD": str(info.get("password") or ""),
            "POSTGRES_SCHEMA": settings.database_schema,
            "POSTGRES_POOL_SIZE": str(settings.pool_size),
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.sqlite_path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def ensure_schema(settings: Settings) -> None:
    """Create the PostgreSQL schema named in settings, if any (eventsourcing does not)."""
    if settings.database_url and settings.database_schema:
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(settings.database_schema))
            )


def open_cases(settings: Settings | None = None, *, clock: Clock | None = None) -> HazardCases:
    """The hazard-case service on the store ``settings`` name (default: from environment)."""
    settings = settings or Settings()
    policy = Policy(load_rules(settings.rules_file))  # a bad rules file stops start-up here
    ensure_schema(settings)
    if not settings.database_url:
        return HazardCases(store_env(settings), clock=clock, policy=policy)
    # eventsourcing creates its tables and replaces its insert function in every process
    # that opens the store, and so does pg_append; two server workers doing so at once can
    # fail one of them ("tuple concurrently updated"). One process at a time, then.
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('hazardflow.open_cases'))")
        cases = HazardCases(store_env(settings), clock=clock, policy=policy)
        pg_append.install(cases.recorder)
        return cases


def open_blobs(settings: Settings | None = None) -> BlobStore:
    """The evidence file store ``settings`` name (directory, size limit, allowed types)."""
    settings = settings or Settings()
    return BlobStore(settings.blob_dir, settings.max_upload_bytes, settings.evidence_media_types)
