"""The page's labels come from the catalogues, in every language offered."""

from __future__ import annotations

from allocator.web.labels import MESSAGES, labels_for


def test_every_page_label_is_translated_to_nb():
    english = labels_for("en")
    norwegian = labels_for("nb")
    assert set(norwegian) == set(MESSAGES)
    same = [k for k in MESSAGES if norwegian[k] == english[k]]
    # Words spelt alike in both languages, and nothing else.
    assert set(same) <= {"status", "team", "of"} | {k for k in same if english[k].isdigit()}


def test_leader_words_not_solver_words_in_nb():
    t = labels_for("nb")
    assert t["gap"] == "Avstand til beste mulige"
    assert "Frø" not in t["seed"]
    assert t["stop_proof"] == "beste mulige er bevist"
    assert t["change_unassigned"] == "mistet veileder"
    assert t["user_unassigned"] == "venter"
