"""Test helpers shipped with the package: synthetic trajectories and tiny pools with known truth."""

from robopref.testing.preferences import (
    candidate_pairs,
    synthetic_preferences,
    write_preferences,
)
from robopref.testing.synthetic import synthetic_trajectory, tiny_pool

__all__ = [
    "candidate_pairs",
    "synthetic_preferences",
    "synthetic_trajectory",
    "tiny_pool",
    "write_preferences",
]
