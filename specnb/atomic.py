"""Atomic file writes: write a temporary file beside the target, fsync, then rename over it.

A build interrupted at any moment, or stopped by a full disk, leaves either the old files or the new ones,
never a torn one: ``write_files`` writes every temporary file of a set before it renames any.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _default_mode() -> int:
    """Permissions a plainly created file would get (mkstemp makes 0600 files, unfit for shared reports)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _default_mode()


def write_files(files: dict) -> None:
    """Write ``{path: bytes}`` as one: each to a hidden ``.<name>.<random>.tmp`` beside it, synced, then all
    renamed over their targets in order. If any cannot be written (a full disk, a read-only folder), none
    is replaced; the ``OSError`` names the file."""
    written: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                written.append((tmp, path))
                os.fchmod(fd, FILE_MODE)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                exc.filename = str(path)  # the target, not its temporary name
                raise
        for tmp, path in written:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in written:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise


def write_bytes(path, data: bytes) -> None:
    write_files({path: data})


def write_text(path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
