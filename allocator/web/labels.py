"""The page's words: English message ids, translated by the catalogues.

The words come from the same gettext catalogues as the report and the
workbook (``allocator.i18n``, docs/language.md). The language is the one
asked for in ``?lang=``, else the one remembered in a cookie, else the
browser's first preference we have, else Norwegian.
"""

from __future__ import annotations

from allocator import i18n


def N_(message: str) -> str:
    """Marks a message for extraction; translated in :func:`labels_for`."""
    return message


LANGUAGES = {"nb": "Norsk", "en": "English"}
DEFAULT = "nb"

# Key (used by the page's template and script) -> English message id.
MESSAGES: dict[str, str] = {
    "title": N_("Caseload allocation"),
    "intro": N_(
        "Upload this week's input, allocate, review, lock and "
        "download. Nothing leaves this machine."
    ),
    "language": N_("Language"),
    "upload": N_("1. Upload"),
    "drop": N_(
        "Drop the instance here (a .zip of the folder, or "
        "instance.toml with the tables or the workbook), or press "
        "Enter to choose files."
    ),
    "choose": N_("Instance files"),
    "previous": N_("Last week's solution (.zip or allocation.xlsx, optional)"),
    "scenario": N_("Scenario file (.toml, optional)"),
    "time_limit": N_("Time limit (seconds, optional)"),
    "seed": N_("Seed (optional)"),
    "limit": N_("Largest upload"),
    "allocate": N_("Allocate"),
    "selected": N_("Selected files"),
    "none_selected": N_("No files chosen yet."),
    "rejected": N_("The input was rejected; nothing was allocated."),
    "row": N_("row"),
    "column": N_("column"),
    "progress": N_("2. Search"),
    "status": N_("Status"),
    "elapsed": N_("Elapsed"),
    "objective": N_("Objective"),
    "bound": N_("Bound"),
    "gap": N_("Gap"),
    "stop": N_("Stop and keep the best so far"),
    "results": N_("3. Results"),
    "summary": N_("Summary"),
    "placed": N_("Placed"),
    "unplaced": N_("Unplaced"),
    "urgent_unplaced": N_("Urgent unplaced"),
    "moves": N_("Moves"),
    "stopped_by": N_("Ended by"),
    "report": N_("Report"),
    "open_report": N_("Open the report in a new tab"),
    "show_report": N_("Show the report on this page"),
    "users": N_("Users"),
    "filter": N_("Filter users (id, municipality, team, advisor, status)"),
    "showing": N_("Showing"),
    "of": N_("of"),
    "user": N_("User"),
    "municipality": N_("Municipality"),
    "team": N_("Team"),
    "advisor": N_("Advisor"),
    "lock": N_("Lock"),
    "actions": N_("Lock"),
    "fix": N_("Keep with this advisor"),
    "forbid": N_("Not this advisor"),
    "unlock": N_("Unlock"),
    "locked_fix": N_("kept"),
    "locked_forbid": N_("not"),
    "locks_pending": N_("Locks for the next allocation"),
    "reallocate": N_("Re-allocate with these locks"),
    "changes": N_("Changes"),
    "no_changes": N_("No changes."),
    "downloads": N_("4. Downloads"),
    "warnings": N_("Warnings"),
    "failed": N_("The job failed"),
    "status_queued": N_("waiting for a free processor"),
    "status_solving": N_("searching"),
    "status_done": N_("done"),
    "status_stopped": N_("stopped; the best allocation found is kept"),
    "status_failed": N_("failed"),
    "error_network": N_("The server could not be reached."),
    # Values the page shows from the solution's files, in words (the files
    # keep their ids): why the search ended, a user's status, a change.
    "stop_proof": N_("the best possible was proven"),
    "stop_deterministic_time": N_("the work limit was reached"),
    "stop_gap_limit": N_("close enough to the best possible"),
    "stop_wall_clock": N_("the time limit was reached"),
    "stop_interrupted": N_("stopped by hand"),
    "stop_none": N_("not stopped"),
    "user_assigned": N_("assigned"),
    "user_unassigned": N_("unassigned"),
    "change_moved": N_("moved"),
    "change_unassigned": N_("lost their advisor"),
    "change_arrived": N_("arrived"),
    "change_left": N_("left"),
    "column_kind": N_("change"),
    "column_from": N_("from"),
    "column_to": N_("to"),
    "column_from_team": N_("from_team"),
    "column_to_team": N_("to_team"),
    "column_team_change": N_("team_change"),
    "column_locked": N_("locked"),
    "column_reason": N_("reason"),
    "true": N_("yes"),
    "false": N_("no"),
    # The leader's table: names, words, sorting, paging, a way past it.
    "compare": N_("Compare structures"),
    "reason": N_("Reason"),
    "show": N_("Show"),
    "show_all": N_("all users"),
    "filter_hint": N_(
        "Enter in the filter goes to the first matching user's lock buttons."
    ),
    "skip_table": N_("Skip the table: go to the locks and re-allocation"),
    "page_previous": N_("Previous page"),
    "page_next": N_("Next page"),
    "page": N_("Page"),
    "plan_read": N_("Read from last week's plan"),
    "n_user": N_("user"),
    "n_users": N_("users"),
    "n_lock": N_("lock"),
    "n_locks": N_("locks"),
    "nothing": N_("none"),
}


# The comparison step (/compare): key -> English message id. Statuses and
# upload problems that the allocation step shares are looked up there.
COMPARE_MESSAGES: dict[str, str] = {
    "title": N_("Compare structures"),
    "language": N_("Language"),
    "pages": N_("Pages"),
    "allocate": N_("Allocate"),
    "intro": N_(
        "Solve today's structure and each scenario on the same users, with "
        "the same seeds, and see them side by side: every figure explained, "
        "every difference marked real or not."
    ),
    "input": N_("The instance and the structures"),
    "files": N_("Instance: a .zip of the folder, or its files"),
    "job": N_("…or the instance of an earlier allocation (its job id)"),
    "shipped": N_("Shipped scenario files"),
    "none_shipped": N_("none in this installation"),
    "instance_scenarios": N_(
        "every scenario in the uploaded instance's scenarios/ folder"
    ),
    "scenarios": N_("Your own scenario files (.toml)"),
    "seeds": N_("Seeds (their spread is the band a difference must clear)"),
    "time_limit": N_("Seconds per solve (empty: each structure's own)"),
    "limit": N_("Largest upload"),
    "compare": N_("Compare"),
    "progress": N_("Progress"),
    "status": N_("Status"),
    "done_count": N_("Structures done"),
    "elapsed": N_("Elapsed"),
    "stop": N_("Stop"),
    "result": N_("The comparison"),
    "row": N_("row"),
    "column": N_("column"),
    "of": N_("of"),
    "warning": N_("Warning"),
    "archive": N_("every structure's files (comparison.zip)"),
    "rejected": N_("The input was rejected; nothing was compared."),
    "error_network": N_("The server could not be reached."),
    "status_queued": N_("waiting for a free processor"),
    "status_solving": N_("comparing"),
    "status_done": N_("done"),
    "status_stopped": N_("stopped; nothing was written"),
    "status_failed": N_("failed"),
    # Where a refusal points, by the form's field (the answer's ``file``).
    "field_upload": N_("upload"),
    "field_job": N_("earlier allocation"),
    "field_shipped": N_("Shipped scenario files"),
    "field_scenarios": N_("scenarios"),
    "field_seeds": N_("seeds"),
    "field_time_limit": N_("time limit"),
}


def compare_labels_for(language: str) -> dict[str, str]:
    """The comparison step's labels in ``language`` (else Norwegian)."""
    with i18n.language(language if language in LANGUAGES else DEFAULT):
        return {key: i18n._(message) for key, message in COMPARE_MESSAGES.items()}


def labels_for(language: str) -> dict[str, str]:
    """The page's labels in ``language`` (``nb`` or ``en``; else Norwegian)."""
    with i18n.language(language if language in LANGUAGES else DEFAULT):
        return {key: i18n._(message) for key, message in MESSAGES.items()}


def choose_language(
    asked: str | None, remembered: str | None, accept: str | None
) -> str:
    """``?lang=``, then the cookie, then Accept-Language, then Norwegian.

    Accept-Language entries are taken by their q weights; ``no``, ``nb``
    and ``nn`` all mean Norwegian.
    """
    for choice in (asked, remembered):
        if choice in LANGUAGES:
            return choice
    preferences: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        preferences.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(preferences):
        primary = tag.split("-")[0]
        if primary in {"nb", "no", "nn"}:
            return "nb"
        if primary == "en":
            return "en"
    return DEFAULT
