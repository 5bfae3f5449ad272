"""Where results may go: p2psim never deletes or overwrites anything it did not create.

The rules, checked before any simulation (:func:`check_out_dir`), so a bad ``--out`` costs no
run and writes nothing:

* A path that does not exist, or an empty folder, may be written.
* An existing non-empty folder is refused, unless ``overwrite`` is asked for (``--overwrite``)
  *and* the folder is a p2psim results folder of the same kind: its ``manifest.json`` carries
  p2psim's signature (:data:`GENERATOR`) and the kind (:data:`KINDS`), and the folder holds no
  file or folder the manifest does not list. A user's file put into a results folder therefore
  makes it the user's again: it is never replaced.
* The target must be writable: the nearest existing folder on its path must accept a new
  folder (tried with an empty temporary folder, removed at once), so ``/sys/x`` or a read-only
  mount is refused before the run, not after it.

Results are built in a hidden staging folder beside the target (:func:`staging_folder`), named
with the writer's process id, so a folder left by a killed writer (SIGKILL) is recognised as
stale and removed by the next writer to the same parent (:func:`remove_stale_staging`).

A results store (``--store``) is resumable: it is reopened, never replaced, and has its own
kind (:data:`STORE_KIND`); its checks live in :mod:`sim.outputs.store`.

This module imports nothing heavy (no pandas, no matplotlib), so the CLI can check a target
before it loads the model.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

MANIFEST = "manifest.json"
GENERATOR = "p2psim"
KINDS = ("run", "compare", "sweep", "calibration")
STORE_KIND = "store"
_STAGING = re.compile(r"^\.(?P<name>.+)\.pid(?P<pid>\d+)\.[^.]+\.partial$")


class OutputError(Exception):
    """The results cannot go where they were asked to; the message is meant for the user."""


def signature(kind: str) -> dict:
    """The manifest entries that mark a folder as p2psim's, of one kind.

    Args:
        kind: one of :data:`KINDS`, or :data:`STORE_KIND`.

    Returns:
        ``{"generator": "p2psim", "folder_kind": kind}``, merged into every manifest.
    """
    return {"generator": GENERATOR, "folder_kind": kind}


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest as plain data, or ``None`` if it has none or it is unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _unlisted(folder: Path, manifest: dict) -> list[str]:
    """Entries of ``folder`` its manifest does not list (the manifest itself is listed)."""
    listed = set(manifest.get("files") or {}) | {MANIFEST}
    return sorted(p.name for p in folder.iterdir() if p.name not in listed)


def _why_not_replaceable(folder: Path, kind: str) -> str | None:
    """Why ``folder`` is not a p2psim ``kind`` results folder, or ``None`` if it is one."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("generator") != GENERATOR:
        return f"it is not a p2psim results folder (no {MANIFEST} with p2psim's signature)"
    found = manifest.get("folder_kind")
    if found != kind:
        return f"it holds a p2psim {found or 'folder of an unknown kind'}, not a {kind}"
    extra = _unlisted(folder, manifest)
    if extra:
        shown = ", ".join(extra[:3]) + (", ..." if len(extra) > 3 else "")
        return f"it holds files p2psim did not write there ({shown})"
    return None


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(folder: Path) -> None:
    """Refuse a target whose nearest existing folder will not take a new folder.

    Args:
        folder: an absolute path (it may not exist yet).

    Raises:
        OutputError: a file is in the way, or the place is read-only or not a real folder.
    """
    base = _nearest_existing(folder.parent)
    if not base.is_dir():
        raise OutputError(f"--out {folder}: {base} is a file, not a folder")
    # os.access is not enough: root passes it everywhere, and /sys or a read-only mount still
    # refuse. So try what the writer will do, with an empty folder removed at once.
    try:
        probe = tempfile.mkdtemp(prefix=".p2psim-probe-", dir=base)
    except OSError as err:
        raise OutputError(f"--out {folder}: cannot write in {base} ({err.strerror or err})") \
            from None
    with contextlib.suppress(OSError):
        os.rmdir(probe)


def check_out_dir(folder: str | Path, kind: str = "run", overwrite: bool = False) -> Path:
    """Check that results of ``kind`` may be written to ``folder``; call it before any work.

    Args:
        folder: the ``--out`` target.
        kind: what will be written there (one of :data:`KINDS`).
        overwrite: ``--overwrite`` was given: an earlier p2psim folder of the same kind may be
            replaced.

    Returns:
        The absolute target path.

    Raises:
        OutputError: the target is a file, a non-empty folder that may not be replaced, or not
            writable.
    """
    folder = Path(folder).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"--out {folder}: exists and is a file, not a results folder")
    if folder.is_dir() and any(folder.iterdir()):
        why = _why_not_replaceable(folder, kind)
        if why is not None:
            raise OutputError(f"--out {folder}: folder exists and is not empty, and {why}; "
                              "refusing to touch it. Choose a new path.")
        if not overwrite:
            raise OutputError(f"--out {folder}: holds an earlier p2psim {kind}; give "
                              "--overwrite to replace it, or choose a new path")
    check_writable(folder)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_staging(parent: Path) -> int:
    """Remove staging folders in ``parent`` whose writer is no longer running.

    Only folders named by :func:`staging_folder` are candidates, and only those whose process id
    is gone (a writer killed with SIGKILL, or a machine that crashed): a live writer's staging
    folder is never touched.

    Args:
        parent: the folder results are written in.

    Returns:
        How many were removed.
    """
    removed = 0
    with contextlib.suppress(OSError):
        for path in parent.iterdir():
            match = _STAGING.match(path.name)
            if match and path.is_dir() and not _alive(int(match.group("pid"))):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
    return removed


def staging_folder(folder: Path) -> Path:
    """A new hidden staging folder beside ``folder``: ``.<name>.pid<pid>.<random>.partial``.

    Same filesystem as the target, so the final rename is atomic. Stale staging folders of
    dead writers in the same parent are removed first.

    Args:
        folder: the absolute target (its parent must exist).

    Returns:
        The staging folder (created, empty).
    """
    remove_stale_staging(folder.parent)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.pid{os.getpid()}.", suffix=".partial",
                                 dir=folder.parent))
