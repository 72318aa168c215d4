"""What the HTTP printer clients share: one ``requests`` session per printer, with timeouts, and
transport failures and refusals turned into :class:`PrinterError` messages (never the secret)."""

from __future__ import annotations

from typing import Optional

from .printer import PrinterError


class HttpClient:
    """Requests to ``base_url`` with a per-request timeout (s); ``auth``/``headers`` carry the secret."""

    def __init__(self, name: str, kind: str, base_url: str, timeout_s: float = 10.0,
                 headers: Optional[dict] = None, auth=None):
        import requests

        self.name, self.kind = name, kind
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.session.trust_env = False  # printers are local: never route them through a proxy

    def request(self, method: str, path: str, ok: tuple[int, ...] = (200, 201, 204), **kwargs):
        import requests

        try:
            reply = self.session.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        except requests.Timeout:
            raise PrinterError(f"{self.kind} at {self.base_url} did not answer within {self.timeout_s:g} s.",
                               hint=f"check that {self.kind} is running and not overloaded") from None
        except requests.ConnectionError as exc:
            raise PrinterError(f"Cannot reach {self.kind} at {self.base_url}.",
                               hint=f"check that {self.kind} is running and the address is right",
                               detail=str(exc)) from None
        # OctoPrint takes a POST without a valid key for a browser session and fails its CSRF check
        if reply.status_code in (401, 403) or (reply.status_code == 400 and "CSRF" in reply.text):
            raise PrinterError(f"{self.kind} at {self.base_url} refused MedPrint's credentials "
                               f"(HTTP {reply.status_code}).",
                               hint=f"check the API key or password of printer '{self.name}' "
                                    f"(medprint printers add {self.name} ...)")
        if reply.status_code not in ok:
            raise PrinterError(f"{self.kind} at {self.base_url} answered HTTP {reply.status_code} to "
                               f"{method} {path.split('?')[0]}.", hint=_short(reply.text),
                               detail=reply.text[:2000])
        return reply

    def close(self) -> None:
        self.session.close()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."
