"""The page's words in Norwegian (bokmål) and English.

The language is the one asked for in ``?lang=``, else the one remembered in
a cookie, else the browser's first preference we have, else Norwegian.
"""

from __future__ import annotations

LANGUAGES = {"nb": "Norsk", "en": "English"}
DEFAULT = "nb"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Caseload allocation",
        "intro": "Upload this week's input, allocate, review, lock and download. "
        "Nothing leaves this machine.",
        "language": "Language",
        "upload": "1. Upload",
        "drop": "Drop the instance here (a .zip of the folder, or instance.toml "
        "with the tables or the workbook), or press Enter to choose files.",
        "choose": "Instance files",
        "previous": "Last week's solution (.zip or allocation.xlsx, optional)",
        "scenario": "Scenario file (.toml, optional)",
        "time_limit": "Time limit (seconds, optional)",
        "seed": "Seed (optional)",
        "limit": "Largest upload",
        "allocate": "Allocate",
        "selected": "Selected files",
        "none_selected": "No files chosen yet.",
        "rejected": "The input was rejected; nothing was allocated.",
        "row": "row",
        "column": "column",
        "progress": "2. Search",
        "status": "Status",
        "elapsed": "Elapsed",
        "objective": "Objective",
        "bound": "Bound",
        "gap": "Gap",
        "stop": "Stop and keep the best so far",
        "results": "3. Results",
        "summary": "Summary",
        "placed": "Placed",
        "unplaced": "Unplaced",
        "urgent_unplaced": "Urgent unplaced",
        "moves": "Moves",
        "stopped_by": "Ended by",
        "report": "Report",
        "open_report": "Open the report in a new tab",
        "show_report": "Show the report on this page",
        "users": "Users",
        "filter": "Filter users (id, municipality, team, advisor, status)",
        "showing": "Showing",
        "of": "of",
        "user": "User",
        "municipality": "Municipality",
        "team": "Team",
        "advisor": "Advisor",
        "lock": "Lock",
        "actions": "Lock",
        "fix": "Keep with this advisor",
        "forbid": "Not this advisor",
        "unlock": "Unlock",
        "locked_fix": "kept",
        "locked_forbid": "not",
        "locks_pending": "Locks for the next allocation",
        "reallocate": "Re-allocate with these locks",
        "changes": "Changes",
        "no_changes": "No changes.",
        "downloads": "4. Downloads",
        "warnings": "Warnings",
        "failed": "The job failed",
        "status_queued": "waiting for a free processor",
        "status_solving": "searching",
        "status_done": "done",
        "status_stopped": "stopped; the best allocation found is kept",
        "status_failed": "failed",
        "error_network": "The server could not be reached.",
    },
    "nb": {
        "title": "Fordeling av saker",
        "intro": "Last opp ukens data, fordel, se over, lås og last ned. "
        "Ingenting forlater denne maskinen.",
        "language": "Språk",
        "upload": "1. Last opp",
        "drop": "Slipp instansen her (en .zip av mappen, eller instance.toml med "
        "tabellene eller arbeidsboken), eller trykk Enter for å velge filer.",
        "choose": "Instansfiler",
        "previous": "Forrige ukes løsning (.zip eller allocation.xlsx, valgfritt)",
        "scenario": "Scenariofil (.toml, valgfritt)",
        "time_limit": "Tidsgrense (sekunder, valgfritt)",
        "seed": "Frø (valgfritt)",
        "limit": "Største opplasting",
        "allocate": "Fordel",
        "selected": "Valgte filer",
        "none_selected": "Ingen filer valgt ennå.",
        "rejected": "Dataene ble avvist; ingenting ble fordelt.",
        "row": "rad",
        "column": "kolonne",
        "progress": "2. Søk",
        "status": "Status",
        "elapsed": "Tid brukt",
        "objective": "Målverdi",
        "bound": "Grense",
        "gap": "Avstand",
        "stop": "Stopp og behold den beste så langt",
        "results": "3. Resultat",
        "summary": "Sammendrag",
        "placed": "Fordelt",
        "unplaced": "Ikke fordelt",
        "urgent_unplaced": "Hastesaker ikke fordelt",
        "moves": "Flyttinger",
        "stopped_by": "Avsluttet av",
        "report": "Rapport",
        "open_report": "Åpne rapporten i en ny fane",
        "show_report": "Vis rapporten på denne siden",
        "users": "Brukere",
        "filter": "Filtrer brukere (id, kommune, team, veileder, status)",
        "showing": "Viser",
        "of": "av",
        "user": "Bruker",
        "municipality": "Kommune",
        "team": "Team",
        "advisor": "Veileder",
        "lock": "Lås",
        "actions": "Lås",
        "fix": "Behold hos denne veilederen",
        "forbid": "Ikke denne veilederen",
        "unlock": "Lås opp",
        "locked_fix": "beholdes",
        "locked_forbid": "ikke",
        "locks_pending": "Låser for neste fordeling",
        "reallocate": "Fordel på nytt med disse låsene",
        "changes": "Endringer",
        "no_changes": "Ingen endringer.",
        "downloads": "4. Nedlastinger",
        "warnings": "Advarsler",
        "failed": "Jobben feilet",
        "status_queued": "venter på en ledig prosessor",
        "status_solving": "søker",
        "status_done": "ferdig",
        "status_stopped": "stoppet; den beste fordelingen som ble funnet er beholdt",
        "status_failed": "feilet",
        "error_network": "Fikk ikke kontakt med serveren.",
    },
}


def labels_for(language: str) -> dict[str, str]:
    """The page's labels in ``language`` (``nb`` or ``en``)."""
    return LABELS.get(language, LABELS[DEFAULT])


def choose_language(
    asked: str | None, remembered: str | None, accept: str | None
) -> str:
    """``?lang=``, then the cookie, then Accept-Language, then Norwegian.

    Accept-Language entries are taken by their q weights; ``no``, ``nb``
    and ``nn`` all mean Norwegian.
    """
    for choice in (asked, remembered):
        if choice in LABELS:
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
