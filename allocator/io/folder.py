"""Writing a folder of files as one step: whole, or not at all.

A solution folder is written into a hidden sibling first and then swapped
into place, so a reader (or a run that is interrupted, or two runs writing
the same ``--out`` at once) only ever sees the old folder or the new one,
never a mixture. Folders and files get the user's usual permissions (the
umask), and no hidden sibling is left behind.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import glob
import os
import shutil
import signal
import stat
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from allocator.errors import DataWarning, SolutionError

# How long a run waits for another run writing next to the same folder.
LOCK_WAIT_S = 60.0
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2


def check_writable(out: Path) -> None:
    """Fail early when ``out`` could not be written: before a long solve.

    Creates and removes an empty probe folder in the nearest folder that
    exists on the way to ``out`` (where ``out`` or its parents will be
    made), which is what the write itself will need.

    Raises:
        SolutionError: "cannot write to OUT" with the reason.
    """
    base = out.absolute().parent
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise SolutionError(f"cannot write to {out}: {base} is not a folder.")
    probe = base / _hidden(out, "probe").name
    try:
        probe.mkdir()
    except OSError as error:
        raise SolutionError(
            f"cannot write to {out}: {_reason(error)} in {base}."
        ) from error
    probe.rmdir()


def write_folder(files: dict[str, str | bytes], out: Path) -> None:
    """Write every file into ``out`` atomically: all of them, or nothing.

    The files go to a hidden sibling folder first, which then takes the
    place of ``out`` in one atomic exchange (``renameat2``; two renames
    where the file system lacks it); the older folder is removed after.
    Runs writing next to each other take a lock on the parent folder, so
    two runs writing the same ``out`` at once leave the one or the other
    whole. An interrupt (Ctrl-C) while the files are written leaves ``out``
    as it was; one during the exchange takes effect right after it.

    Raises:
        SolutionError: ``out`` cannot be written, or another process kept
            changing it while this one wrote.
    """
    # A symlinked --out is written where it points, the link left as it is.
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SolutionError(f"cannot write to {out}: {_reason(error)}.") from error
    with _parent_lock(out.parent, out):
        _sweep(out)
        staging = _hidden(out, "new")
        try:
            staging.mkdir()
            for name, content in files.items():
                target = staging / name
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8", newline="")
            with _deferred_interrupts():
                old = _swap_in(staging, out)
        except OSError as error:
            _remove(staging)
            raise SolutionError(
                f"cannot write to {out}: {_reason(error)}; nothing was written."
            ) from error
        except BaseException:
            _remove(staging)
            raise
    if old is not None and not _remove(old):
        warnings.warn(
            f"the earlier solution in {out} could not be removed and was kept "
            f"as {old}; remove it by hand.",
            DataWarning,
            stacklevel=2,
        )


def _swap_in(staging: Path, out: Path) -> Path | None:
    """Put ``staging`` at ``out``; returns where the older folder went, if any.

    Another process (not holding the lock: a sync client, a hand) may create
    or remove ``out`` between the look and the rename; one retry covers a
    single such change, a second one is reported.
    """
    for _attempt in range(2):
        try:
            if out.exists():
                _exchange(staging, out)
                return staging
            _rename_new(staging, out)
            return None
        except FileExistsError:
            continue
        except FileNotFoundError:
            continue
        except OSError as error:
            if error.errno != errno.ENOTEMPTY:
                raise
    raise SolutionError(
        f"another run wrote {out} at the same time; nothing was written by "
        "this one. Run it again, or give each run its own --out."
    )


def _libc_rename(source: Path, target: Path, flags: int) -> bool:
    """renameat2(2); False where the system or file system lacks it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def _exchange(staging: Path, out: Path) -> None:
    """Swap two folders atomically; afterwards ``staging`` holds the old one."""
    if _libc_rename(staging, out, _RENAME_EXCHANGE):
        return
    aside = _hidden(out, "old")
    out.rename(aside)
    try:
        staging.rename(out)
    except OSError:
        aside.rename(out)
        raise
    aside.rename(staging)


def _rename_new(staging: Path, out: Path) -> None:
    """Move ``staging`` to ``out``, which must not exist (EEXIST if it does)."""
    if _libc_rename(staging, out, _RENAME_NOREPLACE):
        return
    if out.exists():
        raise FileExistsError(errno.EEXIST, "exists", str(out))
    staging.rename(out)


def _hidden(out: Path, role: str) -> Path:
    """A hidden sibling of ``out`` that names its role and this process."""
    return out.with_name(f".{out.name}-{role}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _sweep(out: Path) -> None:
    """Remove hidden siblings of ``out`` left by a run that was killed.

    Called under the lock, so no other run is writing here; a sibling whose
    process still lives (another machine's, on a share) is left alone.
    """
    for role in ("new", "old", "probe"):
        for path in out.parent.glob(f".{glob.escape(out.name)}-{role}-*-*"):
            pid = path.name[len(out.name) + len(role) + 3 :].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                _remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(folder: Path) -> bool:
    """Remove a folder, read-only parts included; False when it stays."""

    def writable_again(function: Any, path: str, _info: Any) -> None:
        parent = os.path.dirname(path)
        for place in (parent, path):
            with suppress(OSError):
                os.chmod(place, os.stat(place).st_mode | stat.S_IRWXU)
        function(path)

    if not folder.exists():
        return True
    try:
        shutil.rmtree(folder, onerror=writable_again)
    except OSError:
        return False
    return not folder.exists()


@contextmanager
def _parent_lock(parent: Path, out: Path) -> Iterator[None]:
    """An exclusive flock on the parent folder while writing into it.

    A lock on the folder itself leaves no lock file behind. Where the file
    system has no locks (some network shares) the write goes on without,
    and the retry in ``_swap_in`` still keeps the folder whole.
    """
    try:
        handle = os.open(parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        waited = _acquire(handle, out)
        if waited:
            warnings.warn(
                f"waited {waited:.1f} s for another run writing in {parent}; "
                f"{out.name} was then written whole.",
                DataWarning,
                stacklevel=4,
            )
        yield
    finally:
        os.close(handle)


def _acquire(handle: int, out: Path) -> float:
    """Take the lock; returns the seconds waited (0 when it was free)."""
    start = time.monotonic()
    waited = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            if time.monotonic() - start > LOCK_WAIT_S:
                raise SolutionError(
                    f"another run has been writing next to {out} for "
                    f"{LOCK_WAIT_S:.0f} s; nothing was written. Try again."
                ) from None
            time.sleep(0.05)
            continue
        except OSError:
            return 0.0
        return time.monotonic() - start if waited else 0.0


@contextmanager
def _deferred_interrupts() -> Iterator[None]:
    """Hold a Ctrl-C that arrives during the exchange until it is done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):
            previous(signal.SIGINT, None)
        else:
            raise KeyboardInterrupt


def _reason(error: OSError) -> str:
    """An OSError as a short cause: "permission denied", "read-only file system"."""
    return (error.strerror or type(error).__name__).lower()
