"""Interop tests need the `lerobot` package (Python ≥ 3.12): `make interop` runs them in .venv312.

In the main venv they are not collected (lerobot is not installed there by design).
"""

from __future__ import annotations

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("lerobot") else ["test_*.py"]
