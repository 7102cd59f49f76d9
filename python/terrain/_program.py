"""Where the terrain program is: ``$TERRAIN``, then the PATH, then this repository's release build."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import TerrainError

#: This package's folder is ``python/terrain`` inside the repository; the Swift release build is
#: ``.build/release/terrain`` at the repository's root.
_REPOSITORY_BUILD = Path(__file__).resolve().parent.parent.parent / ".build" / "release" / "terrain"


def find_program() -> str:
    """The path of the terrain program.

    ``$TERRAIN`` wins when set (and must then name an executable file); otherwise ``terrain`` on
    the PATH (``make install PREFIX=…`` puts it in ``PREFIX/bin``); otherwise the release build of
    the repository this package was installed from in development mode (``pip install -e``) or
    run from (``PYTHONPATH=python``).
    """
    explicit = os.environ.get("TERRAIN")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise TerrainError(f"$TERRAIN is {explicit!r}, which is not an executable file")
    on_path = shutil.which("terrain")
    if on_path:
        return on_path
    if _REPOSITORY_BUILD.is_file() and os.access(_REPOSITORY_BUILD, os.X_OK):
        return str(_REPOSITORY_BUILD)
    raise TerrainError("the terrain program was not found: set $TERRAIN to its path, put it on the PATH "
                       "(make install PREFIX=~/.local), or build the repository (make build)")
