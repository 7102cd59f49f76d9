"""Where the terrain program is: ``$TERRAIN``, then the PATH, then this repository's release build."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .errors import TerrainError

#: Where a repository's release build may be: beside this package's source (``python/terrain``
#: inside the repository, run in place or installed with ``pip install -e``), or beside the
#: virtual environment that runs it (``make python`` installs into ``.venv-torch`` at the root).
_REPOSITORY_BUILDS = [Path(__file__).resolve().parent.parent.parent / ".build" / "release" / "terrain",
                      Path(sys.prefix).resolve().parent / ".build" / "release" / "terrain"]


def find_program() -> str:
    """The path of the terrain program.

    ``$TERRAIN`` wins when set (and must then name an executable file); otherwise ``terrain`` on
    the PATH (``make install PREFIX=…`` puts it in ``PREFIX/bin``); otherwise the release build of
    the repository this package runs from (``PYTHONPATH=python``, ``pip install -e ./python``) or
    whose virtual environment runs it (``make python``).
    """
    explicit = os.environ.get("TERRAIN")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise TerrainError(f"$TERRAIN is {explicit!r}, which is not an executable file")
    on_path = shutil.which("terrain")
    if on_path:
        return on_path
    for build in _REPOSITORY_BUILDS:
        if build.is_file() and os.access(build, os.X_OK):
            return str(build)
    raise TerrainError("the terrain program was not found: set $TERRAIN to its path, put it on the PATH "
                       "(make install PREFIX=~/.local), or build the repository (make build)")
