"""``hazardflow serve``: the HTTP API under uvicorn, on the configured store."""

from __future__ import annotations

import copy
import inspect
import logging
import os
import re
from typing import Any

import typer

from api.app import DEFAULT_TOKEN_TTL, SERVE_GROUP_COMMIT, SERVE_TOKEN_TTL
from api.cli.context import settings

# A revoked token must stop working within a time someone can wait for: an hour's cache
# (or `inf`) would leave a dismissed grid worker acting all that time.
MAX_TOKEN_TTL = 300


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="port to listen on"),
    workers: int = typer.Option(1, min=1, max=64, help="server processes"),
    group_commit: bool = typer.Option(
        True, help="share one transaction among the commands waiting in each process"),
    token_ttl: float = typer.Option(
        DEFAULT_TOKEN_TTL, min=0, max=MAX_TOKEN_TTL,
        help="seconds a token stays cached per process; a revoked token stops working within "
             f"this time (0: no cache; at most {MAX_TOKEN_TTL})"),
    access_log: bool = typer.Option(False, help="log every request"),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) until interrupted."""
    import uvicorn

    os.environ[SERVE_GROUP_COMMIT] = "1" if group_commit else "0"
    os.environ[SERVE_TOKEN_TTL] = str(token_ttl)
    typer.echo(f"hazardflow API on http://{host}:{port} ({workers} worker(s), "
               f"{settings().describe_store()}, group commit {'on' if group_commit else 'off'})",
               err=True)
    uvicorn.run("api.app:app_from_environment", factory=True, host=host, port=port,
                workers=workers, access_log=access_log, log_config=log_config(uvicorn),
                log_level=None, **_patient_supervisor(uvicorn))


def log_config(uvicorn: Any) -> dict[str, Any]:
    """uvicorn's logging with its own messages from warnings up, but its access lines (at
    info) kept: a log level of warning for all of uvicorn silenced ``--access-log``. The
    access lines go through ``HideApiKeys``."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = config["loggers"]["uvicorn.error"]["level"] = \
        "WARNING"
    config["filters"] = {"hide_api_keys": {"()": HideApiKeys}}
    config["handlers"]["access"]["filters"] = ["hide_api_keys"]
    return config


# Open311 clients send their token as the query's api_key (the name may come
# percent-encoded: Starlette decodes it).
_API_KEY = re.compile(r"([?&]api(?:_|%5f)key=)[^&#]*", re.IGNORECASE)


class HideApiKeys(logging.Filter):
    """Masks the value of ``api_key`` in an access line's path: it is a bearer token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            record.args = (*args[:2], _API_KEY.sub(r"\1***", args[2]), *args[3:])
        return True


def _patient_supervisor(uvicorn: Any) -> dict[str, Any]:
    """uvicorn's supervisor kills a worker that misses a 5 s health check; a worker busy
    under load (or on a machine shared with other work) can miss it, and every request it
    holds is cut off. Give it 60 s where the option exists."""
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        return {"timeout_worker_healthcheck": 60}
    return {}
