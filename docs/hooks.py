"""Links from the docs to files of the repository outside docs/.

A page links to a repository file the way GitHub resolves it, relative to the
page (``../../solutions/REPORTS.md`` from ``docs/guides/``), so the link works
when the Markdown is read in the repository. For the built site, each such file
that exists is copied into the site at its repository path and the link is
pointed at the copy; a link to a file that does not exist is left as written,
so ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


class RepositoryFile(File):
    """A repository file copied into the site as it is, never rendered."""

    def is_documentation_page(self) -> bool:
        return False


def escaping_target(page_uri: str, target: str) -> str | None:
    """The repository path of a relative link that leaves docs/, else None."""
    if "://" in target or target.startswith(("/", "mailto:")):
        return None
    here = posixpath.join("docs", posixpath.dirname(page_uri))
    joined = posixpath.normpath(posixpath.join(here, target))
    if joined.startswith("docs/") or joined.startswith(".."):
        return None
    return joined


def on_files(files: Files, config) -> Files:
    docs = Path(config["docs_dir"])
    root = docs.parent
    for page in list(files.documentation_pages()):
        for match in LINK.finditer(page.content_string):
            path = escaping_target(page.src_uri, match.group(2))
            known = path is None or files.get_file_from_path(path) is not None
            if not known and (root / path).is_file():
                files.append(
                    RepositoryFile(
                        path,
                        src_dir=str(root),
                        dest_dir=config["site_dir"],
                        use_directory_urls=config["use_directory_urls"],
                    )
                )
    return files


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    root = Path(config["docs_dir"]).parent

    def point_at_copy(match: re.Match[str]) -> str:
        path = escaping_target(page.file.src_uri, match.group(2))
        if path is None or not (root / path).is_file():
            return match.group(0)
        # The copy stands at docs/<path> as far as MkDocs is concerned.
        here = posixpath.dirname(page.file.src_uri) or "."
        link = posixpath.relpath(path, here)
        return f"{match.group(1)}{link}{match.group(3) or ''}{match.group(4)}"

    return LINK.sub(point_at_copy, markdown)
