"""Uploads into a job's folder, refusing what could escape it or flood the disk.

An instance arrives as one ``.zip`` of its folder (FORMAT.md section 1) or as
its own files. A zip entry is refused when it would land outside the target
folder (an absolute path, ``..``, a drive letter), when it is a link or
encrypted, and the archive is refused when it holds too many entries or
expands beyond the limit (counted on the bytes really written, not only the
sizes the archive claims). A workbook is a zip too, so its expanded size is
checked before the reader opens it.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from allocator.errors import InputProblem

CHUNK = 1 << 16
# Entries a zip of an instance may hold; a real instance has about ten files.
MAX_ENTRIES = 1000
# Folders and files some systems add to a zip, never part of an instance.
IGNORED_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
# The longest file name the usual file systems take (bytes of UTF-8), and
# how long and deep a zip entry's path may be: far beyond any instance,
# far below what makes the system refuse a path (PATH_MAX is 4,096 bytes).
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
MAX_DEPTH = 16


class UploadError(Exception):
    """An upload refused before any reading; carries located problems."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def refuse(file: str, message: str) -> UploadError:
    return UploadError([InputProblem(file, None, None, message)])


@dataclass(frozen=True)
class Limits:
    """How much an upload may become on disk once expanded (bytes)."""

    expanded_bytes: int
    entries: int = MAX_ENTRIES


def safe_name(filename: str | None) -> str:
    """The plain file name of an upload; never a path.

    Raises:
        UploadError: an empty name, ``.``/``..``, control characters, or a
            name longer than a file system takes (``MAX_NAME_BYTES``).
    """
    raw = (filename or "").replace("\\", "/")
    name = PurePosixPath(raw).name
    if not name or name in {".", ".."} or any(ord(c) < 32 for c in name):
        raise refuse("upload", "a file without a usable name was sent.")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise refuse(
            shown_name(name),
            f"expected a file name of at most {MAX_NAME_BYTES} bytes, found "
            f"{len(name.encode('utf-8', 'surrogatepass')):,}; rename the file.",
        )
    return name


def shown_name(name: str) -> str:
    """A name as messages show it: cut, with its end kept (the extension)."""
    if len(name) <= 60:
        return name
    return f"{name[:40]}...{name[-16:]}"


def entry_too_long(parts: tuple[str, ...]) -> str | None:
    """Why a zip entry's path cannot be written, or None when it can."""
    longest = max(len(p.encode("utf-8", "surrogatepass")) for p in parts)
    if longest > MAX_NAME_BYTES:
        return (
            f"an entry's name is {longest:,} bytes long, more than the "
            f"{MAX_NAME_BYTES} a file system takes; rename it."
        )
    size = len("/".join(parts).encode("utf-8", "surrogatepass"))
    if size > MAX_PATH_BYTES or len(parts) > MAX_DEPTH:
        return (
            f"an entry lies {len(parts)} folders deep ({size:,} bytes of path); "
            f"expected at most {MAX_DEPTH} folders and {MAX_PATH_BYTES} bytes."
        )
    return None


def entry_parts(name: str) -> tuple[str, ...] | None:
    """The path parts of a zip entry, or None when it would leave the folder."""
    text = name.replace("\\", "/")
    path = PurePosixPath(text)
    if path.is_absolute() or text.startswith("/"):
        return None
    parts = tuple(p for p in path.parts if p not in {"", "."})
    if not parts or any(p == ".." for p in parts) or ":" in parts[0]:
        return None
    if any(any(ord(c) < 32 for c in p) for p in parts):
        return None
    return parts


def extract_zip(archive: Path, target: Path, limits: Limits, label: str) -> None:
    """Expand ``archive`` into ``target``, refusing anything unsafe.

    Raises:
        UploadError: not a zip; an entry outside ``target``, a link, an
            encrypted entry; too many entries; more than
            ``limits.expanded_bytes`` once expanded.
    """
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            if len(infos) > limits.entries:
                raise refuse(
                    label, f"the archive holds more than {limits.entries} entries."
                )
            declared = sum(info.file_size for info in infos)
            if declared > limits.expanded_bytes:
                raise refuse(label, too_big(limits))
            root = target.resolve()
            written = 0
            for info in infos:
                parts = entry_parts(info.filename)
                if parts is None:
                    raise refuse(
                        label, "an entry would land outside the job's folder; refused."
                    )
                if IGNORED_PARTS & set(parts):
                    continue
                why = entry_too_long(parts)
                if why is not None:
                    raise refuse(label, why)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise refuse(label, "the archive holds a link; refused.")
                if info.flag_bits & 0x1:
                    raise refuse(label, "the archive holds an encrypted entry.")
                destination = root.joinpath(*parts)
                if not destination.resolve().is_relative_to(root):
                    raise refuse(
                        label, "an entry would land outside the job's folder; refused."
                    )
                if info.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, destination.open("xb") as sink:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        # The sizes in the directory may lie; count real bytes.
                        if written > limits.expanded_bytes:
                            raise refuse(label, too_big(limits))
                        sink.write(chunk)
    except FileExistsError as error:
        raise refuse(label, "the archive holds the same file twice.") from error
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
    ) as error:
        raise refuse(label, "not a readable zip archive.") from error
    except OSError as error:
        # A file and a folder of one name, a name the file system refuses:
        # the archive's fault. The message never holds the server's path.
        raise refuse(
            label, f"an entry cannot be written ({error.strerror or 'refused'})."
        ) from None


def too_big(limits: Limits) -> str:
    megabytes = limits.expanded_bytes / 1e6
    return f"the archive expands beyond the limit of {megabytes:g} MB; refused."


def check_workbook(path: Path, limits: Limits, label: str) -> None:
    """Refuse a workbook (a zip) that would expand beyond the limit when read."""
    try:
        with zipfile.ZipFile(path) as zipped:
            infos = zipped.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip at all: the reader says what is wrong with it
    if (
        len(infos) > limits.entries
        or sum(i.file_size for i in infos) > limits.expanded_bytes
    ):
        raise refuse(label, "the workbook expands beyond the upload limit; refused.")


def folder_holding(root: Path, marker: str, label: str) -> Path:
    """The one folder under ``root`` that holds ``marker`` (root itself if none).

    Raises:
        UploadError: several folders hold it.
    """
    found = sorted(p.parent for p in root.rglob(marker) if p.is_file())
    if len(found) > 1:
        raise refuse(label, f"the archive holds {len(found)} {marker} files; send one.")
    return found[0] if found else root


def save_stream(source: object, destination: Path, limit: int, label: str) -> int:
    """Copy a file-like upload to ``destination``; refuse more than ``limit`` bytes."""
    size = 0
    read = source.read  # type: ignore[attr-defined]
    with destination.open("xb") as sink:
        while chunk := read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise refuse(
                    label, f"the upload exceeds the limit of {limit / 1e6:g} MB."
                )
            sink.write(chunk)
    return size


def remove_tree(folder: Path) -> None:
    """Remove a job folder, ignoring one already gone."""
    shutil.rmtree(folder, ignore_errors=True)
