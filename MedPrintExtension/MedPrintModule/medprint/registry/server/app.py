"""The registry's HTTP API and dashboard (FastAPI).

``POST /api/v1/cases`` takes one case record (the client's own schema) with a bearer site token and
an ``Idempotency-Key``: 201 stored, 409 already stored (same key and record, or the site holds the
case ID), 401 unknown token, 403 admin token or another site's record, 411/413 missing or oversized
body, 422 invalid record (field errors, refused CPT codes, suspected PHI; nothing stored), 429 rate
limit. A site reads only its own cases (``GET /api/v1/cases/{id}``, CSV); the admin token sees
aggregates of every site. ``/dashboard`` is the server-rendered page (sign in with a token).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import ValidationError
from starlette.routing import Route
from sqlalchemy.exc import SQLAlchemyError

from ... import __version__
from ..cpt import check_codes
from ..phi_scan import scan_payload
from ..schema import CaseRecord
from . import dashboard, store
from .auth import Principal, TokenCache
from .db import make_engine
from .limits import BodyLimit, RateLimiter

log = logging.getLogger("medprint.registry.server")
COOKIE = "medprint_token"
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SUBMIT_RESPONSES = {201: "stored", 400: "missing or malformed Idempotency-Key", 401: "unknown or missing token",
                    403: "admin token, or a record of another site", 409: "already stored (duplicate)",
                    411: "Content-Length missing", 413: "body too large",
                    422: "invalid record: field errors, refused CPT codes or suspected PHI (nothing stored)",
                    429: "rate limit; see Retry-After"}


@dataclass(frozen=True)
class ServerSettings:
    database_url: str = "sqlite:///medprint-registry.sqlite3"
    max_body_bytes: int = 64 * 1024
    rate_per_second: float = 20.0  # per token; 0 turns the limit off
    burst: int = 60
    rollup_seconds: float = 2.0  # how often new cases are summed for the dashboard; 0: only on reads

    @classmethod
    def from_env(cls) -> "ServerSettings":
        env = os.environ.get
        return cls(database_url=env("MEDPRINT_REGISTRY_DATABASE_URL", cls.database_url),
                   max_body_bytes=int(env("MEDPRINT_REGISTRY_MAX_BODY", cls.max_body_bytes)),
                   rate_per_second=float(env("MEDPRINT_REGISTRY_RATE", cls.rate_per_second)),
                   burst=int(env("MEDPRINT_REGISTRY_BURST", cls.burst)),
                   rollup_seconds=float(env("MEDPRINT_REGISTRY_ROLLUP_SECONDS", cls.rollup_seconds)))


def _error(status: int, detail, headers: Optional[dict] = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status, headers=headers)


def create_app(settings: ServerSettings = ServerSettings()) -> FastAPI:
    """The registry app over ``settings.database_url`` (migrated beforehand, see :mod:`.migrate`)."""
    engine = make_engine(settings.database_url)
    tokens = TokenCache(engine)
    limiter = RateLimiter(settings.rate_per_second, settings.burst)

    @asynccontextmanager
    async def lifespan(_app):
        """Sum new cases into the aggregates every ``rollup_seconds``, so a dashboard read after a
        burst of submissions does not pay for them."""
        async def roll():
            while True:
                await asyncio.sleep(settings.rollup_seconds)
                try:
                    await run_in_threadpool(store.rollup, engine)
                except SQLAlchemyError:
                    log.exception("rollup failed; retrying")
        task = asyncio.create_task(roll()) if settings.rollup_seconds > 0 else None
        yield
        if task:
            task.cancel()
        engine.dispose()

    app = FastAPI(title="MedPrint registry", version=__version__, lifespan=lifespan)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.engine = engine

    def token_of(request: Request) -> str:
        header = request.headers.get("authorization", "")
        return header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")

    def principal(request: Request) -> Optional[Principal]:
        token = token_of(request)
        return tokens.resolve(token) if token else None

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    async def submit(request: Request):
        token = token_of(request)
        known, who = tokens.cached(token) if token else (True, None)
        if not known:
            who = await run_in_threadpool(tokens.resolve, token)
        if who is None:
            return _error(401, "unknown or missing token", {"WWW-Authenticate": "Bearer"})
        if who.is_admin:
            return _error(403, "the admin token cannot submit cases")
        wait = limiter.allow(who.token_sha256)
        if wait:
            return _error(429, "too many requests", {"Retry-After": str(max(1, round(wait)))})
        key = request.headers.get("idempotency-key", "")
        if not _KEY.match(key):
            return _error(400, "an Idempotency-Key header of 8–64 letters, digits, '-' or '_' is required")
        try:
            record = CaseRecord.model_validate_json(await request.body())
        except ValidationError as exc:
            return _error(422, [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()])
        if record.site != who.site_id:
            return _error(403, f"this token belongs to another site than '{record.site}'")
        refused = [f.message for f in check_codes(record) if f.level == "error"]
        if refused:
            return _error(422, [{"loc": ["cpt"], "msg": m, "type": "cpt_rule"} for m in refused])
        phi = scan_payload(record.model_dump(mode="json"))
        if phi:
            return _error(422, [{"loc": path.split("."), "msg": span.describe(path), "type": "phi",
                                 "start": span.start, "end": span.end} for path, span in phi])
        stored = await run_in_threadpool(store.insert_case, engine, who.site_id, key, record)
        if stored.outcome == "created":
            return JSONResponse({"status": "created", "case_id": stored.case_id}, 201)
        if stored.outcome == "key_conflict":
            return _error(422, "this Idempotency-Key was used for a different record")
        return JSONResponse({"status": stored.outcome, "case_id": stored.case_id}, 409)

    # a plain route: the hot path skips FastAPI's parameter machinery (the body is validated above)
    app.router.routes.append(Route("/api/v1/cases", submit, methods=["POST"]))

    @app.get("/api/v1/cases/{case_id}")
    def read_case(case_id: str, request: Request):
        who = principal(request)
        if who is None:
            return _error(401, "unknown or missing token", {"WWW-Authenticate": "Bearer"})
        if who.is_admin:
            return _error(403, "the admin token sees aggregates, not cases")
        record = store.get_case(engine, who.site_id, case_id)
        return record if record is not None else _error(404, "no such case for this site")

    def _figures(who: Principal) -> dict:
        return dashboard.figures(*store.aggregates(engine, None if who.is_admin else who.site_id))

    @app.get("/api/v1/dashboard")
    def dashboard_json(request: Request):
        who = principal(request)
        if who is None:
            return _error(401, "unknown or missing token", {"WWW-Authenticate": "Bearer"})
        return _figures(who)

    @app.get("/api/v1/export.csv")
    def export_csv(request: Request):
        who = principal(request)
        if who is None:
            return _error(401, "unknown or missing token", {"WWW-Authenticate": "Bearer"})
        text = (dashboard.aggregates_csv(store.aggregate_rows(engine)) if who.is_admin
                else dashboard.cases_csv(store.site_cases(engine, who.site_id)))
        return PlainTextResponse(text, media_type="text/csv",
                                 headers={"Content-Disposition": 'attachment; filename="registry.csv"'})

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard_page(request: Request):
        who = principal(request)
        if who is None:
            return RedirectResponse("/login", 303)
        return HTMLResponse(dashboard.render(_figures(who), "all sites" if who.is_admin else who.site_id))

    @app.get("/login", response_class=HTMLResponse)
    def login_form():
        return HTMLResponse(dashboard.login_page())

    @app.post("/login")
    async def login(request: Request):
        token = parse_qs((await request.body()).decode(errors="replace")).get("token", [""])[0].strip()
        if not token or await run_in_threadpool(tokens.resolve, token) is None:
            return HTMLResponse(dashboard.login_page("Unknown token."), 401)
        response = RedirectResponse("/dashboard", 303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    @app.get("/logout")
    def logout():
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE)
        return response

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            record = CaseRecord.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(record.pop("$defs", {}))
            components["CaseRecord"] = record
            schema["paths"]["/api/v1/cases"] = {"post": {
                "summary": "Submit one case record", "parameters": [
                    {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}],
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CaseRecord"}}}},
                "responses": {str(code): {"description": text} for code, text in SUBMIT_RESPONSES.items()}}}
            schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    return app


def app_from_env() -> FastAPI:
    """The app configured from ``MEDPRINT_REGISTRY_*`` variables (uvicorn factory for workers)."""
    return create_app(ServerSettings.from_env())
