"""The API key that admin endpoints require (public GET endpoints need none).

Send it as `X-API-Key: <key>`. No key configured (RECSYS_API_KEY unset) means admin endpoints are
disabled (403), never open.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from service.deps import state_of

_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="admin API key (RECSYS_API_KEY)")


async def require_api_key(request: Request, key: Annotated[str | None, Depends(_header)]) -> None:
    configured = state_of(request).settings.api_key
    if configured is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin endpoints are disabled: set RECSYS_API_KEY")
    if not key:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing X-API-Key header",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    # Constant-time comparison: the key must not leak through response timing.
    if not secrets.compare_digest(key.encode(), configured.get_secret_value().encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong API key")


AdminKey = Depends(require_api_key)
