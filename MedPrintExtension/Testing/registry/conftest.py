"""Registry test fixtures: a PostgreSQL cluster (session), a fresh database per backend, a running
registry server per backend, and sites with tokens."""

from __future__ import annotations

import itertools
import uuid

import pytest
from registry_services import PostgresCluster, RegistryServer

from medprint.registry.server.auth import add_site
from medprint.registry.server.db import make_engine
from medprint.registry.server.migrate import upgrade

_sites = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


def fresh_database(kind: str, pg_cluster_factory, tmp_path_factory) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'registry.sqlite3'}"
    return pg_cluster_factory().create_database("reg_" + uuid.uuid4().hex[:12])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A new, migrated database of each backend."""
    url = fresh_database(request.param, lambda: request.getfixturevalue("pg_cluster"), tmp_path_factory)
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    srv = RegistryServer(database_url, tmp_path_factory.mktemp("server") / "server.log")
    yield srv
    srv.stop()


@pytest.fixture
def site(engine):
    """A new site on the server's database: ``(site_id, token)``."""
    site_id = f"site-{next(_sites)}-{uuid.uuid4().hex[:6]}"
    return site_id, add_site(engine, site_id)
