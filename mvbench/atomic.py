"""Atomic file writes: write to a temporary file in the target folder, then rename over the target.

A reader never sees a half-written file, and a crash leaves at most nothing (the temporary file is
removed on any error). Used for results, caches, weights, reference statistics and metadata.

The file gets the permissions an ordinary ``open(path, "w")`` would give (``0o666`` less the umask),
not ``mkstemp``'s private ``0o600``, so a shared results folder or ``$MVBENCH_HOME`` works for a team.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read without changing it where /proc allows; else set and restored under a lock).

    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", suffix: str = "") -> Iterator[IO]:
    """``with atomic_open(path, "wb") as fh: ...`` writes ``path`` atomically (parents are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as fh:
        fh.write(text)
