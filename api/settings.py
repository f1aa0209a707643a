"""Settings, from the environment (``HAZARDFLOW_*``) and an optional ``.env`` file.

With nothing set, hazardflow stores everything in ``./hazardflow.db`` (SQLite).
Set ``HAZARDFLOW_DATABASE_URL=postgresql://user:password@host:5432/dbname`` for PostgreSQL.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZARDFLOW_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="postgresql://... for PostgreSQL; unset for the SQLite file"
    )
    database_schema: str = Field(
        default="", description="PostgreSQL schema for hazardflow's tables (default: public)"
    )
    sqlite_path: Path = Field(default=Path("hazardflow.db"), description="the SQLite file")
    pool_size: int = Field(default=5, ge=1, le=100, description="database connections kept")
    blob_dir: Path = Field(default=Path("hazardflow-evidence"),
                           description="where evidence files are kept, by content hash")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1,
                                  description="the largest evidence file accepted, in bytes")
    evidence_media_types: list[str] = Field(
        default=["image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"],
        description="media types accepted as evidence, as read from the file's content "
                    "(JSON list in the environment)",
    )
    rules_file: Path | None = Field(
        default=None,
        description="TOML rules (deadlines, routing, escalation); unset: the packaged default",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: str | None) -> str | None:
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("HAZARDFLOW_DATABASE_URL must start with postgresql://")
        if url:
            from psycopg import ProgrammingError
            from psycopg.conninfo import conninfo_to_dict

            try:
                conninfo_to_dict(url)
            except ProgrammingError as error:
                # psycopg quotes the whole URL, password included: keep only its reason.
                reason = str(error).split(" in URI:")[0].replace(url, "<the URL>")
                raise ValueError(
                    f"HAZARDFLOW_DATABASE_URL is not a PostgreSQL URL: {reason}") from None
        return url or None

    @field_validator("database_schema")
    @classmethod
    def _plain_schema(cls, schema: str) -> str:
        # eventsourcing writes the name into SQL unquoted in places, and PostgreSQL cuts
        # a name over 63 bytes without a word (two long names would be one schema).
        if schema and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema):
            raise ValueError(f"HAZARDFLOW_DATABASE_SCHEMA {schema!r} must be letters, digits "
                             "and underscores, not starting with a digit, at most 63")
        return schema

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def describe_store(self) -> str:
        """Where the events live, for messages (no password)."""
        if self.database_url:
            from psycopg.conninfo import conninfo_to_dict

            info = conninfo_to_dict(self.database_url)
            schema = self.database_schema or "public"
            return (f"PostgreSQL {info.get('host', 'localhost')}:{info.get('port', 5432)}"
                    f"/{info.get('dbname', '')} schema {schema}")
        return f"SQLite {self.sqlite_path}"


# HAZARDFLOW_* variables read elsewhere: the CLI's token, what `serve` hands its workers,
# and the test and benchmark stores. Anything else with the prefix is most likely a typo.
OTHER_VARIABLES = frozenset({"HAZARDFLOW_TOKEN", "HAZARDFLOW_SERVE_GROUP_COMMIT",
                             "HAZARDFLOW_SERVE_TOKEN_TTL", "HAZARDFLOW_TEST_DATABASE_URL",
                             "HAZARDFLOW_BENCH_DATABASE_URL", "HAZARDFLOW_BENCH_DIR"})


def unknown_variables(environ: Mapping[str, str], where: str = "") -> list[str]:
    """A warning for each ``HAZARDFLOW_*`` variable nothing reads, naming the setting it
    was probably meant to be: ``HAZARDFLOW_DATABSE_URL`` is otherwise ignored without a
    word, and the events go to the SQLite file instead of PostgreSQL. ``where`` names the
    source when it is not the environment (`` in .env``)."""
    prefix = Settings.model_config["env_prefix"]
    known = {prefix + name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    warnings = []
    for name in sorted(environ):
        if name.upper().startswith(prefix) and name.upper() not in known:
            close = difflib.get_close_matches(name.upper(), sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            warnings.append(f"warning: {name}{where} is not a hazardflow setting{hint}; "
                            f"it is ignored")
    return warnings


def unknown_in_env_file() -> list[str]:
    """The warnings of ``unknown_variables`` for the ``.env`` file Settings reads, where a
    typo is ignored as silently as in the environment."""
    path = Path(str(Settings.model_config["env_file"]))
    if not path.is_file():
        return []
    names = {name: value or "" for name, value in dotenv_values(path).items()}
    return unknown_variables(names, f" in {path}")
