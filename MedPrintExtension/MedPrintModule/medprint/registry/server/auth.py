"""Per-site tokens: random, shown once, stored only as SHA-256 hashes; one admin role for aggregates."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from ...errors import InputError
from .db import sites, tokens

_SITE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to: a site (``site_id``) or the admin (``site_id`` None)."""

    site_id: Optional[str]
    is_admin: bool
    token_sha256: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_site(engine: Engine, site_id: str, name: str = "", cost_per_or_minute: float = 62.0,
             minutes_per_model: float = 62.0, minutes_per_guide: float = 23.0) -> str:
    """Register a site and return its new token (the only time the token is shown)."""
    if not _SITE.match(site_id):
        raise InputError(f"'{site_id}' cannot be a site ID.", hint="2–32 lower-case letters, digits or '-'")
    token = "mps_" + secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        if conn.execute(select(sites.c.site_id).where(sites.c.site_id == site_id)).first():
            raise InputError(f"The site '{site_id}' exists already.", hint="choose another site ID")
        conn.execute(insert(sites).values(site_id=site_id, name=name, cost_per_or_minute=cost_per_or_minute,
                                          minutes_per_model=minutes_per_model,
                                          minutes_per_guide=minutes_per_guide, created_at=now))
        conn.execute(insert(tokens).values(token_sha256=token_hash(token), site_id=site_id, is_admin=False,
                                           created_at=now))
    return token


def add_admin(engine: Engine) -> str:
    """A new admin token (sees aggregates of every site, no case rows)."""
    token = "mpa_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(insert(tokens).values(token_sha256=token_hash(token), site_id=None, is_admin=True,
                                           created_at=datetime.now(timezone.utc)))
    return token


class TokenCache:
    """Resolves tokens to principals, remembering answers for ``ttl`` seconds (one query per token)."""

    def __init__(self, engine: Engine, ttl: float = 30.0, max_entries: int = 10_000):
        self.engine, self.ttl, self.max_entries = engine, ttl, max_entries
        self._cache: dict[str, tuple[float, Optional[Principal]]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> tuple[bool, Optional[Principal]]:
        """``(True, principal)`` if the answer is remembered, else ``(False, None)`` (no database use)."""
        with self._lock:
            hit = self._cache.get(token_hash(token))
        return (True, hit[1]) if hit and hit[0] > time.monotonic() else (False, None)

    def resolve(self, token: str) -> Optional[Principal]:
        known, principal = self.cached(token)
        if known:
            return principal
        digest = token_hash(token)
        now = time.monotonic()
        with self.engine.connect() as conn:
            row = conn.execute(select(tokens.c.site_id, tokens.c.is_admin)
                               .where(tokens.c.token_sha256 == digest)).first()
        principal = Principal(row.site_id, bool(row.is_admin), digest) if row else None
        with self._lock:
            if len(self._cache) >= self.max_entries:  # bounded, whatever tokens are tried
                self._cache.clear()
            self._cache[digest] = (now + self.ttl, principal)
        return principal
