"""Names from the input that become folder or file names.

An instance's ``name`` becomes the folder ``solutions/<name>/``; a GAP
problem's name becomes part of a benchmark folder. Such a name must stay one
plain folder name, so a file that was sent to a leader can never make the
tool write elsewhere (``../../x``, ``/srv/share/x``, ``C:\\x``).
"""

from __future__ import annotations

import re

from allocator.i18n import _

# Control characters and the characters Windows forbids in a file name.
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def plain_name_problem(name: str) -> str | None:
    """What ``name`` lacks to be a plain folder name, or None when it is one.

    A plain name is non-empty, holds no ``/`` or ``\\`` (nor ``: * ? " < > |``
    or control characters, which Windows shares refuse), does not start
    with ``.`` (hidden, ``.`` or ``..``) and does not end in a space or dot.
    """
    if not name:
        return _("not empty")
    if "/" in name or "\\" in name:
        return _("no / or \\: a name, not a path")
    if name.startswith("."):
        return _("not starting with ., which names a hidden or parent folder")
    if _FORBIDDEN.search(name):
        return _(
            'none of : * ? " < > | or control characters, which folder '
            "names cannot hold"
        )
    if name.endswith((" ", ".")):
        return _("not ending in a space or a dot")
    if len(name.encode("utf-8")) > 200:
        return _("at most 200 bytes long")
    return None


def is_plain_name(name: str) -> bool:
    """True when ``name`` can be used as one folder name as it is."""
    return plain_name_problem(name) is None
