"""A stable digest of a command's parameters, to tell a replay from a reused command id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(value.as_dict() if hasattr(value, "as_dict") else dataclasses.asdict(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def fingerprint(trigger: str, params: dict[str, Any]) -> str:
    body = json.dumps([trigger, _plain(params)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()
