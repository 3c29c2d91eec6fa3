"""Replacing an output file atomically (issue 14, "File safety of -o").

A run writes to a temporary file in the target's own folder and renames
it over the target only when the whole output is there (POSIX
``rename(2)`` is atomic within a file system), so an interrupted or failed
write never leaves a truncated file in place of the old one.  The new
file keeps the old one's mode, else gets ``0666 & ~umask`` as a freshly
created file would; a symlink's *target* is replaced, the link kept
(docs/reliability.md "-o onto a symlink").
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(target, suffix: str = ".tmp"):
    """Yield the path of a temporary file next to ``target``; when the body
    ends without an exception it replaces ``target``, otherwise it is
    removed.  ``OSError`` (disk full, permissions) propagates."""
    target = Path(target)
    if target.is_symlink():
        target = target.resolve()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, (target.stat().st_mode & 0o7777) if target.exists() else 0o666 & ~mask)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
