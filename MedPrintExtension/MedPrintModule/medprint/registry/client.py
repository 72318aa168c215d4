"""Send the outbox to a registry: HTTPS, a per-site bearer token, an idempotency key per record.

An entry is marked sent only when the registry acknowledges it (2xx, or 409 for a record it already
holds); on a network error, 429, 401/403 or 5xx it stays pending and is retried with exponential
backoff; a record refused for its content (400/413/422) is marked rejected with the registry's
reason. Logs name case IDs and statuses only, never payloads or tokens.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

import requests

from ..errors import InputError
from .config import RegistryConfig
from .outbox import Entry, Outbox
from .schema import CaseRecord

log = logging.getLogger("medprint.registry")
SUBMIT_PATH = "/api/v1/cases"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def backoff_seconds(attempts: int, base: float = 30.0, cap: float = 3600.0) -> float:
    """Wait before the next try after ``attempts`` failures: doubling from ``base``, at most ``cap``,
    with +-20 % jitter so many clients do not retry in step."""
    return min(cap, base * 2 ** max(attempts - 1, 0)) * random.uniform(0.8, 1.2)


class RegistryClient:
    """A registry endpoint; ``timeout`` is (connect, read) seconds, so a send never hangs."""

    def __init__(self, config: RegistryConfig, timeout: tuple[float, float] = (3.0, 10.0)):
        parts = urlsplit(config.url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise InputError(f"The registry address '{config.url}' is not HTTPS.",
                             hint="records travel only over HTTPS (plain HTTP only to this computer, for tests)")
        self.config = config
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {config.token}",
                                     "Content-Type": "application/json"})

    def send(self, entry: Entry) -> requests.Response:
        """POST one entry's record (stamped with this site) with its idempotency key."""
        return self.session.post(self.config.url + SUBMIT_PATH, data=stamp_site(entry.payload, self.config.site),
                                 headers={"Idempotency-Key": entry.key}, timeout=self.timeout)


def stamp_site(payload: bytes, site: str) -> bytes:
    """The payload with ``site`` set (records queued before a registry was configured have none)."""
    record = CaseRecord.model_validate_json(payload)
    return payload if record.site == site else record.model_copy(update={"site": site}).payload()


@dataclass
class FlushReport:
    sent: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.sent)} sent, {len(self.retry)} to retry, {len(self.rejected)} rejected"


def flush(outbox: Outbox, client: RegistryClient, force: bool = False, now: Optional[float] = None) -> FlushReport:
    """Send every due entry once, in order; ``force`` ignores the backoff times."""
    report = FlushReport()
    for entry in outbox.due(now, force=force):
        getattr(report, send_entry(outbox, client, entry)).append(entry.case_id)
    return report


def send_entry(outbox: Outbox, client: RegistryClient, entry: Entry) -> str:
    """Send one entry and record the outcome in the outbox: "sent", "retry" or "rejected"."""
    try:
        response = client.send(entry)
    except requests.RequestException as exc:
        _retry(outbox, entry, f"registry unreachable: {type(exc).__name__}", None)
        return "retry"
    status = response.status_code
    if 200 <= status < 300 or status == 409:
        outbox.mark_sent(entry.key, status)
        log.info("registry case %s acknowledged (%s)", entry.case_id, status)
        return "sent"
    if status in (400, 413, 422):
        outbox.mark_rejected(entry.key, status, response.text)
        log.warning("registry refused case %s (%s)", entry.case_id, status)
        return "rejected"
    _retry(outbox, entry, f"registry answered {status}", status)
    return "retry"


def _retry(outbox: Outbox, entry: Entry, reason: str, status: Optional[int]) -> None:
    outbox.mark_retry(entry.key, reason, time.time() + backoff_seconds(entry.attempts + 1), status)
    log.info("registry case %s stays queued: %s", entry.case_id, reason)
