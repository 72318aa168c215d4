"""The user's MedPrint folders, outside any case folder.

- settings (printers, registry URL and token; secrets, written owner-only): ``$MEDPRINT_CONFIG_DIR``,
  else ``$XDG_CONFIG_HOME/medprint``, else ``~/.config/medprint``;
- data (the registry outbox): ``$MEDPRINT_DATA_DIR``, else ``$XDG_DATA_HOME/medprint``, else
  ``~/.local/share/medprint``.
"""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    """The folder of the user's MedPrint settings."""
    if os.environ.get("MEDPRINT_CONFIG_DIR"):
        return Path(os.environ["MEDPRINT_CONFIG_DIR"])
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "medprint"


def data_dir() -> Path:
    """The folder of the user's MedPrint data (the registry outbox)."""
    if os.environ.get("MEDPRINT_DATA_DIR"):
        return Path(os.environ["MEDPRINT_DATA_DIR"])
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "medprint"
