"""Krippendorff's alpha (ordinal) on 1,000,000 annotations: robopref vs the `krippendorff` package.

Run: .venv/bin/python bench/quality.py [--annotations N] [--annotators K]
Both run in the same process on the same data; each time is the best of 3. "From rows"
starts from (annotator id, pair id, code) rows as the store returns them, so it includes
turning string ids into indices (and, for the package, building its annotators × pairs
matrix); "core" starts from integer pair indices (ours) and the ready matrix (package).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import krippendorff
import numpy as np
import pandas as pd

from robopref.quality import krippendorff_alpha


def best_of(fn: Callable[[], float], repeat: int = 3) -> tuple[float, float]:
    times, value = [], float("nan")
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def package_alpha(matrix: np.ndarray) -> float:
    return float(
        krippendorff.alpha(
            reliability_data=matrix, value_domain=[0, 1, 2], level_of_measurement="ordinal"
        )
    )


def package_from_rows(annotators: np.ndarray, units: np.ndarray, codes: np.ndarray) -> float:
    coder, coders = pd.factorize(annotators)
    unit, uniques = pd.factorize(units)
    matrix = np.full((len(coders), len(uniques)), np.nan)
    matrix[coder, unit] = codes
    return package_alpha(matrix)


def rows(n: int, n_annotators: int, per_pair: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` annotations: each pair goes to 3 distinct annotators; 75% answer the truth."""
    rng = np.random.default_rng(0)
    n_units = -(-n // per_pair)
    truth = rng.integers(0, 3, n_units)
    coders = np.argsort(rng.random((n_units, n_annotators)), axis=1)[:, :per_pair].ravel()[:n]
    noise = rng.integers(0, 3, (n_units, per_pair))
    codes = np.where(rng.random((n_units, per_pair)) < 0.75, truth[:, None], noise).ravel()[:n]
    units = np.repeat(np.array([f"pair-{i:07d}" for i in range(n_units)], dtype=object), per_pair)[
        :n
    ]
    annotators = np.array([f"annotator-{i:02d}" for i in range(n_annotators)], dtype=object)[coders]
    return annotators, units, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument(
        "--pipeline", action="store_true", help="Also time resolve + annotator stats + vote."
    )
    args = parser.parse_args()
    annotators, units, codes = rows(args.annotations, args.annotators)

    ours_rows_s, ours_rows = best_of(lambda: krippendorff_alpha(units, codes, n_categories=3))
    ref_rows_s, ref_rows = best_of(lambda: package_from_rows(annotators, units, codes))
    unit_index, _ = pd.factorize(units)
    coder_index, _ = pd.factorize(annotators)
    matrix = np.full((coder_index.max() + 1, unit_index.max() + 1), np.nan)
    matrix[coder_index, unit_index] = codes
    ours_core_s, ours_core = best_of(lambda: krippendorff_alpha(unit_index, codes, n_categories=3))
    ref_core_s, ref_core = best_of(lambda: package_alpha(matrix))

    n_pairs = unit_index.max() + 1
    print(
        f"Krippendorff's alpha (ordinal): {len(codes):,} annotations, {n_pairs:,} pairs, "
        f"{args.annotators} annotators (best of 3)"
    )
    for name, ours_s, ref_s in (
        ("from rows", ours_rows_s, ref_rows_s),
        ("core", ours_core_s, ref_core_s),
    ):
        print(
            f"  {name:<9}  robopref {ours_s * 1e3:7.1f} ms | krippendorff {ref_s * 1e3:7.1f} ms"
            f" | speed ratio {ref_s / ours_s:.2f}x"
        )
    print(f"  alpha robopref {ours_rows:.9f}, krippendorff {ref_rows:.9f}")
    diff = max(abs(ours_rows - ref_rows), abs(ours_core - ref_core), abs(ours_rows - ours_core))
    print(f"  max abs difference: {diff:.2e}")
    if args.pipeline:
        time_pipeline(annotators, units, codes)


def time_pipeline(annotators: np.ndarray, units: np.ndarray, codes: np.ndarray) -> None:
    """Resolve, annotator stats and majority vote on the same annotations (one run each)."""
    from robopref.quality import QAConfig, aggregate_preferences, annotator_stats
    from robopref.quality.frames import resolve_annotations

    n_units = len(np.unique(units))
    pair_ids = pd.unique(units)
    pairs = pd.DataFrame(
        {
            "pair_id": pair_ids,
            "batch_id": [f"b{i // 500}" for i in range(n_units)],
            "trajectory_a_id": [f"{p}-a" for p in pair_ids],
            "trajectory_b_id": [f"{p}-b" for p in pair_ids],
            "task": "t",
            "kind": "regular",
            "stratum": "same",
            "quartile_a": 2,
            "quartile_b": 2,
            "expected_preference": None,
            "duplicate_of": None,
        }
    )
    answers = pd.DataFrame(
        {
            "pair_id": units,
            "annotator_id": annotators,
            "preference": np.array(["A", "equal", "B"], dtype=object)[codes],
            "confidence": 4,
            "response_time_ms": 8000,
            "left_trajectory_id": [f"{p}-a" for p in units],
        }
    )
    config = QAConfig()
    steps: list[tuple[str, Callable[[], object]]] = []
    resolved: list[pd.DataFrame] = []
    steps.append(("resolve", lambda: resolved.append(resolve_annotations(answers, pairs))))
    steps.append(("annotator stats", lambda: annotator_stats(resolved[0], config)))
    steps.append(("majority vote", lambda: aggregate_preferences(resolved[0], config)))
    for name, step in steps:
        start = time.perf_counter()
        step()
        print(f"  pipeline {name:<16} {(time.perf_counter() - start) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
