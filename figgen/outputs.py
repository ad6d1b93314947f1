"""Writing files so that nothing is ever half written, and the provenance beside each figure.

Every file figgen writes goes to a hidden temporary file in the same folder
first and is then renamed over the destination, which is atomic on POSIX
filesystems: a reader (or an interrupted run) sees the old file or the new
one, never a mixture.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

TEMP_MARK = ".figgen-tmp-"


@contextlib.contextmanager
def atomic_path(destination: Path):
    """Yield a temporary path to write; on success it replaces `destination`.

    On any error (or Ctrl-C) the temporary file is removed and `destination`
    is left exactly as it was.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}{TEMP_MARK}{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, destination)
    finally:
        with contextlib.suppress(OSError):  # e.g. a read-only folder: the error that matters is already raised
            temporary.unlink(missing_ok=True)


def write_bytes(destination: Path, data: bytes) -> None:
    with atomic_path(destination) as temporary:
        temporary.write_bytes(data)


def write_json(destination: Path, data: dict) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_bytes(destination, text.encode("utf-8"))


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files left behind by a run that was killed outright."""
    if not folder.exists():
        return []
    stale = [path for path in folder.rglob(f".*{TEMP_MARK}*") if path.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def provenance_path(figure_path: Path) -> Path:
    """Where the provenance of a figure lives: beside it, same name, `.json`."""
    return figure_path.with_suffix(".json")


def read_provenance(figure_path: Path) -> dict | None:
    """The provenance recorded beside `figure_path`, or None if there is none (or it is unreadable)."""
    path = provenance_path(figure_path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
