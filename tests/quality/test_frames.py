from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from robopref.errors import InputError
from robopref.pairs.records import PAIR_COLUMNS
from robopref.quality import resolve_annotations, self_consistency


def pairs_frame(*rows: tuple[object, ...]) -> pd.DataFrame:
    """Rows (pair_id, a, b, kind, expected, duplicate_of) → a pairs frame in one batch."""
    out = []
    for pair_id, a, b, kind, expected, duplicate_of in rows:
        out.append((pair_id, "b1", a, b, "reach", kind, "distant", 4, 1, expected, duplicate_of))
    return pd.DataFrame(out, columns=list(PAIR_COLUMNS))


PAIRS = pairs_frame(
    ("p1", "x", "y", "gold", "A", None),
    ("p1-r", "y", "x", "duplicate", "B", "p1"),
    ("p2", "u", "v", "regular", None, None),
)


def test_duplicates_map_back_to_their_original_reversed(
    make_annotations: Callable[..., pd.DataFrame],
) -> None:
    ann = make_annotations(
        [("p1", "ann", "A"), ("p1-r", "ann", "B"), ("p2", "ann", "equal")], PAIRS
    )
    resolved = resolve_annotations(ann, PAIRS)
    assert resolved["base_pair_id"].tolist() == ["p1", "p1", "p2"]
    assert resolved["code"].tolist() == [0, 0, 1]  # "B" on the reversed copy is A on p1
    assert resolved["is_duplicate"].tolist() == [False, True, False]
    assert resolved["kind"].tolist() == ["gold", "gold", "regular"]
    assert resolved["expected_code"].iloc[1] == 0
    assert resolved["quartiles"].iloc[0] == "q1-q4"
    assert self_consistency(resolved).loc["ann", "self_consistency"] == 1.0


def test_same_answer_on_a_reversed_copy_is_inconsistent(
    make_annotations: Callable[..., pd.DataFrame],
) -> None:
    ann = make_annotations([("p1", "ann", "A"), ("p1-r", "ann", "A")], PAIRS)
    assert self_consistency(resolve_annotations(ann, PAIRS)).loc["ann", "self_consistency"] == 0.0


def test_chose_left_follows_the_screen_side(make_annotations: Callable[..., pd.DataFrame]) -> None:
    ann = make_annotations(
        [
            ("p1", "a1", "A", "x"),
            ("p1", "a2", "A", "y"),
            ("p1-r", "a1", "A", "y"),
            ("p2", "a1", "equal", "u"),
        ],
        PAIRS,
    )
    chose_left = resolve_annotations(ann, PAIRS)["chose_left"].tolist()
    assert chose_left[:3] == [1.0, 0.0, 1.0]
    assert pd.isna(chose_left[3])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: a.assign(preference="left"), "preference"),
        (lambda a: a.assign(pair_id="nope"), "pair_id"),
        (lambda a: a.assign(left_trajectory_id="zzz"), "left_trajectory_id"),
        (lambda a: a.drop(columns="response_time_ms"), "response_time_ms"),
    ],
)
def test_bad_annotations_name_the_field(
    make_annotations: Callable[..., pd.DataFrame],
    change: Callable[[pd.DataFrame], pd.DataFrame],
    field: str,
) -> None:
    ann = make_annotations([("p1", "ann", "A")], PAIRS)
    with pytest.raises(InputError) as err:
        resolve_annotations(change(ann), PAIRS)
    assert err.value.field == field and err.value.path == "annotations"


def test_missing_original_of_a_duplicate_is_an_error(
    make_annotations: Callable[..., pd.DataFrame],
) -> None:
    ann = make_annotations([("p1-r", "ann", "A")], PAIRS)
    with pytest.raises(InputError, match="duplicate_of"):
        resolve_annotations(ann, PAIRS[PAIRS["pair_id"] != "p1"])
