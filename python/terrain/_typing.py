"""Type aliases the modules share."""
from __future__ import annotations

import os
from typing import Tuple, Union

#: A file or folder path, as text or a path object.
PathLike = Union[str, "os.PathLike[str]"]
#: A grid axis as ``(min, max, num)``: ``(-1, 1, 51)`` is the command line's ``-1:1:51``.
Range = Tuple[float, float, int]
