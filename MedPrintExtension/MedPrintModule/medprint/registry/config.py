"""Where the registry client keeps its files, and which registry it talks to.

The outbox lives in the user's data folder (``$MEDPRINT_DATA_DIR``, else
``$XDG_DATA_HOME/medprint``, else ``~/.local/share/medprint``): one outbox serves every case, so
``medprint registry status|flush`` need no case folder, and the local link from registry case IDs
to studies never travels with a case folder. The registry URL, site and per-site token come from
``MEDPRINT_REGISTRY_URL`` / ``_SITE`` / ``_TOKEN`` or from ``registry.json`` in the user's config
folder (``$MEDPRINT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/medprint``), written owner-only. The token
is a secret: it never goes into case folders, logs or records.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..userdirs import config_dir, data_dir

#: The site of records queued before a registry was configured (set when they are sent).
UNASSIGNED_SITE = "unassigned"


def outbox_path() -> Path:
    return data_dir() / "registry-outbox.sqlite3"


@dataclass(frozen=True)
class RegistryConfig:
    url: str
    site: str
    token: str

    def __repr__(self) -> str:  # never show the token
        return f"RegistryConfig(url={self.url!r}, site={self.site!r}, token=***)"


def load_config() -> Optional[RegistryConfig]:
    """The configured registry, or None when none is configured (then nothing is ever sent)."""
    env = {k: os.environ.get(f"MEDPRINT_REGISTRY_{k.upper()}", "") for k in ("url", "site", "token")}
    if env["url"]:
        data = env
    else:
        path = config_dir() / "registry.json"
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError("The registry settings file is damaged.", hint=f"fix or delete {path}",
                             detail=str(exc)) from exc
    if not all(data.get(k) for k in ("url", "site", "token")):
        raise InputError("The registry settings need a URL, a site and a token.",
                         hint="run `medprint registry configure`")
    return RegistryConfig(url=data["url"].rstrip("/"), site=data["site"], token=data["token"])


def save_config(config: RegistryConfig) -> Path:
    """Write ``registry.json`` readable by the owner only."""
    path = config_dir() / "registry.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": config.url, "site": config.site, "token": config.token}, f)
    os.chmod(path, 0o600)
    return path
