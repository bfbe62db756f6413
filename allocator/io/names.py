"""Names from the input that become folder or file names.

An instance's ``name`` becomes the folder ``solutions/<name>/``; a GAP
problem's name becomes part of a benchmark folder. Such a name must stay one
plain folder name, so a file that was sent to a leader can never make the
tool write elsewhere (``../../x``, ``/srv/share/x``, ``C:\\x``).
"""

from __future__ import annotations

import re

# Control characters and the characters Windows forbids in a file name.
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def plain_name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain folder name, or None when it is one.

    A plain name is non-empty, holds no ``/`` or ``\\`` (nor ``: * ? " < > |``
    or control characters, which Windows shares refuse), does not start
    with ``.`` (hidden, ``.`` or ``..``) and does not end in a space or dot.
    """
    if not name:
        return "it is empty"
    if "/" in name or "\\" in name:
        return "it holds a / or \\ (a path, not a name)"
    if name.startswith("."):
        return "it starts with . (a hidden or parent folder)"
    if _FORBIDDEN.search(name):
        return (
            "it holds a character a folder name cannot have "
            '(: * ? " < > | or a control character)'
        )
    if name.endswith((" ", ".")):
        return "it ends with a space or a dot"
    if len(name.encode("utf-8")) > 200:
        return "it is longer than 200 bytes"
    return None


def is_plain_name(name: str) -> bool:
    """True when ``name`` can be used as one folder name as it is."""
    return plain_name_problem(name) is None
