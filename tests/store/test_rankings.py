"""Rankings: idempotent submission and expansion into pairwise preferences."""

from __future__ import annotations

import pytest

from robopref.errors import InputError
from robopref.store import (
    NotAssignedError,
    RankingSubmission,
    Store,
    ranking_preferences,
    submit_ranking,
)


def ranking(**changes: object) -> RankingSubmission:
    values: dict[str, object] = {
        "annotator_id": "ann-1", "ranking_set_id": "b1-r1",
        "trajectory_ids": ("t07", "t06", "t04", "t02", "t00"),
        "response_time_ms": 40_000, "idempotency_key": "r-1",
    }
    values.update(changes)
    return RankingSubmission(**values)  # type: ignore[arg-type]


def test_ranking_expands_into_every_pair_with_provenance(filled: Store) -> None:
    result = submit_ranking(filled, ranking())
    assert result.created
    assert not submit_ranking(filled, ranking()).created
    prefs = ranking_preferences(filled)
    assert len(prefs) == 10  # 5 choose 2
    # the ranking is best first and scores rise with the id, so the later id always wins
    assert set(prefs["preference"]) == {"B"}
    row = prefs[(prefs.trajectory_a_id == "t00") & (prefs.trajectory_b_id == "t07")].iloc[0]
    provenance = (row.position_a, row.position_b, row.ranking_id, row.batch_id)
    assert provenance == (5, 1, result.annotation_id, "b1")
    assert row.pair_id == "b1-r1-00-04" and row.annotator_id == "ann-1"


def test_two_annotators_rankings_share_pair_ids(filled: Store) -> None:
    submit_ranking(filled, ranking())
    submit_ranking(filled, ranking(annotator_id="ann-2",
                                   trajectory_ids=("t00", "t06", "t04", "t02", "t07")))
    prefs = ranking_preferences(filled, "b1")
    assert len(prefs) == 20 and prefs["pair_id"].nunique() == 10
    pair = prefs[prefs.pair_id == "b1-r1-00-04"].set_index("annotator_id")["preference"]
    assert pair.to_dict() == {"ann-1": "B", "ann-2": "A"}


def test_bad_rankings_are_refused(filled: Store) -> None:
    with pytest.raises(NotAssignedError):
        submit_ranking(filled, ranking(annotator_id="ann-3"))
    with pytest.raises(InputError) as info:
        submit_ranking(filled, ranking(trajectory_ids=("t07", "t06", "t04", "t02")))
    assert info.value.field == "trajectory_ids"
    with pytest.raises(InputError) as info:
        submit_ranking(filled, ranking(trajectory_ids=("t07", "t07", "t04", "t02", "t00")))
    assert info.value.field == "trajectory_ids"
    with pytest.raises(InputError) as info:
        submit_ranking(filled, ranking(response_time_ms=-5))
    assert info.value.field == "response_time_ms"
    assert ranking_preferences(filled).empty


def test_flags_are_stored_per_clip_in_flag_order(filled: Store) -> None:
    from sqlalchemy import select

    from robopref.store.models import RankingItem

    flags = {"t06": ("latent_failure", "gripper_state_wrong", "latent_failure"), "t02": ()}
    result = submit_ranking(filled, ranking(flags=flags))
    with filled.read() as session:
        stored = dict(session.execute(select(RankingItem.trajectory_id, RankingItem.flags).where(
            RankingItem.ranking_id == result.annotation_id)).all())
    assert stored["t06"] == ["gripper_state_wrong", "latent_failure"]
    assert stored["t02"] is None and stored["t07"] is None


@pytest.mark.parametrize("flags", [
    {"t06": ("dropped_object",)},          # not one of RANKING_FLAGS
    {"t05": ("latent_failure",)},          # clip outside the ranking
    {"t06": "latent_failure"},             # a string, not a list
])
def test_bad_flags_are_refused_naming_the_field(filled: Store, flags: object) -> None:
    with pytest.raises(InputError) as info:
        submit_ranking(filled, ranking(flags=flags))
    assert info.value.field == "flags"
    assert ranking_preferences(filled).empty
