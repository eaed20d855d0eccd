"""robopref: RLHF for robots, from a trajectory pool to a validated reward model."""

__version__ = "0.1.0"
