"""Test helpers shipped with the package: synthetic trajectories and tiny pools with known truth."""

from robopref.testing.synthetic import synthetic_trajectory, tiny_pool

__all__ = ["synthetic_trajectory", "tiny_pool"]
