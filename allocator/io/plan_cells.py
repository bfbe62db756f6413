"""The cells of a previous plan, read as this week's: the columns a plan
needs, and its ids compared like the instance's ids. Shared by the solution
folder's reader (``previous.py``) and the workbook's (``allocation_xlsx.py``).
"""

from __future__ import annotations

from allocator.io.tables import normalise_id, parse_text

# The columns a previous plan needs (and that locate its header row).
REQUIRED = ("user", "advisor")


def plan_id(text: str) -> str:
    """An id cell of a previous plan, compared like this week's ids."""
    return normalise_id(parse_text(text)).strip()
