"""Files that hold the state store's data or keys: created readable by their owner only (0600).

SQLite creates a database's ``-wal``, ``-shm`` and ``-journal`` files with the database file's own mode, so a
database file created 0600 here keeps its side files private too; :func:`tighten_sqlite` fixes up files an older
version left group- or world-readable.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

PRIVATE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def tighten(path: Path) -> None:
    """chmod ``path`` to 0600 if it exists and grants anything to group or others (best effort: a file owned
    by another account is left as it is)."""
    with suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
            os.chmod(path, PRIVATE_MODE)


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (then tighten it). Parent directories are created.

    An empty file is a valid new SQLite database, so SQLite opens it as usual afterwards.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)


def tighten_sqlite(database: Path) -> None:
    """Tighten a SQLite database file and whichever of its side files exist."""
    tighten(database)
    for suffix in SQLITE_SIDE_FILES:
        tighten(database.with_name(database.name + suffix))
