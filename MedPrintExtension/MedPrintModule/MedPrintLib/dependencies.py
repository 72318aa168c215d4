"""Python packages MedPrint needs inside Slicer that Slicer does not ship.

They are installed on first use, and only with the user's consent (``slicer.util.pip_install``),
never when the module is imported. Outside Slicer (tests, CLI) pass ``confirm`` and ``install``.
"""

import importlib
import importlib.util
import logging
from typing import Callable, Iterable, Optional

from medprint.errors import MedPrintError

#: import name -> pip requirement
PACKAGES = {
    "trimesh": "trimesh>=4.0",
    "manifold3d": "manifold3d>=2.4",
    "serial": "pyserial>=3.5",
    "requests": "requests>=2.28",
    "pydantic": "pydantic>=2.0",
    "embreex": "embreex>=4.3",
    "pymeshfix": "pymeshfix>=0.17",
}

#: what each step of the workflow needs beyond what Slicer ships (numpy, scipy, vtk, pydicom)
FEATURES = {
    "model": (),
    "export": ("trimesh", "embreex", "manifold3d", "pymeshfix"),
    "guide": ("trimesh", "manifold3d", "embreex"),
    "print": ("requests", "serial", "trimesh"),
    "registry": ("requests", "pydantic"),
}


def missing_packages(modules: Iterable[str]) -> list[str]:
    """The import names in ``modules`` that cannot be imported in this Python."""
    importlib.invalidate_caches()
    return [name for name in modules if importlib.util.find_spec(name) is None]


def ensure_packages(modules: Iterable[str], requester: str = "MedPrint",
                    confirm: Optional[Callable[[str], bool]] = None,
                    install: Optional[Callable[[str], None]] = None) -> bool:
    """Make sure ``modules`` (import names, keys of ``PACKAGES``) can be imported.

    When some are missing, asks the user (``confirm(text) -> bool``, default a Slicer OK/Cancel
    dialog) and installs them (``install(requirements)``, default ``slicer.util.pip_install``).
    Returns True when all are available, False when the user declined. Raises ``MedPrintError``
    when the install did not make them importable.
    """
    modules = list(modules)
    unknown = [name for name in modules if name not in PACKAGES]
    if unknown:
        raise ValueError(f"no pip requirement known for {unknown}")
    missing = missing_packages(modules)
    if not missing:
        return True
    requirements = " ".join(PACKAGES[name] for name in missing)
    if confirm is None or install is None:
        import slicer.util

        confirm = confirm or (lambda text: slicer.util.confirmOkCancelDisplay(
            text, windowTitle=f"{requester}: install Python packages"))
        install = install or slicer.util.pip_install
    question = (f"{requester} needs Python packages that are not installed yet:\n\n    {requirements}\n\n"
                "Install them now? They are downloaded from the Python Package Index (pypi.org); "
                "this can take a minute.")
    if not confirm(question):
        logging.info("%s: installing %s declined by the user", requester, requirements)
        return False
    logging.info("%s: installing %s", requester, requirements)
    install(requirements)
    still_missing = missing_packages(missing)
    if still_missing:
        raise MedPrintError(
            f"Installing the Python packages {', '.join(still_missing)} did not succeed.",
            hint="check the internet connection, or install them from the Python console with "
                 "slicer.util.pip_install",
            detail=f"requirements: {requirements}")
    return True


def ensure_feature(feature: str, requester: str = "MedPrint", **kwargs) -> bool:
    """``ensure_packages`` for one step of the workflow (a key of ``FEATURES``)."""
    return ensure_packages(FEATURES[feature], requester=requester, **kwargs)
