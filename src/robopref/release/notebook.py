"""The release's Jupyter notebook: load preferences, train a small model, evaluate on test.

Written with nbformat, deterministically (fixed cell ids, no outputs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from robopref.atomic import write_atomic

_V4: Any = nbformat.v4  # nbformat's builders are untyped
_WRITE: Any = nbformat.write
NOTEBOOK_FILE = "train_reward_model.ipynb"

INTRO = """# Train a reward model from this release

This notebook loads `preferences.parquet` and `manifest.parquet`, trains a small
Bradley–Terry reward model **from scratch** — a linear reward over the manifest's
per-trajectory metrics, so it needs no frames — and evaluates it on the held-out test
split (`splits.json`, the split the released model was trained with, when present).
It needs only numpy and pandas (with pyarrow) and runs in seconds.

To retrain the full model on frames or state, install robopref and run
`robopref train preferences.parquet POOL --out model` on the source pool."""

LOAD = """import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = {seed}
release = Path(".")
prefs = pd.read_parquet(release / "preferences.parquet")
manifest = pd.read_parquet(release / "manifest.parquet").set_index("trajectory_id")
print(f"{{len(prefs)}} pairs over {{len(manifest)}} trajectories")
prefs["preference"].value_counts().sort_index()"""

SPLIT = """split_file = release / "splits.json"
if split_file.exists():
    split = json.loads(split_file.read_text())
else:  # no saved split: 70 / 15 / 15 at random
    order = np.random.default_rng(SEED).permutation(prefs["pair_id"].to_numpy())
    n_test = n_val = max(1, round(0.15 * len(order)))
    split = {{"test": list(order[:n_test]), "val": list(order[n_test:n_test + n_val]),
             "train": list(order[n_test + n_val:])}}
parts = {{k: prefs[prefs["pair_id"].isin(set(split[k]))] for k in ("train", "val", "test")}}
{{k: len(v) for k, v in parts.items()}}"""

FEATURES = """# Per-trajectory metrics only: never the ground-truth score, its parts or quartile.
CANDIDATES = ["path_efficiency", "path_length_m", "jerk_log_dimensionless", "gripper_changes",
              "gripper_closed_frac", "collisions", "peak_force_n", "min_clearance_m",
              "frac_under_5cm", "progress", "final_goal_distance_m", "duration_s"]
columns = [c for c in CANDIDATES if c in manifest and manifest[c].notna().any()]
raw = manifest[columns].astype(float)
train_ids = pd.unique(parts["train"][["trajectory_a_id", "trajectory_b_id"]].to_numpy().ravel())
centre = raw.loc[train_ids].median()
scale = raw.loc[train_ids].std().replace(0, 1).fillna(1)
features = ((raw.fillna(centre) - centre) / scale).fillna(0.0)
print("features:", columns)"""

TRAIN = """def differences(pairs):
    a = features.loc[pairs["trajectory_a_id"]].to_numpy()
    b = features.loc[pairs["trajectory_b_id"]].to_numpy()
    return a - b, pairs["preference"].to_numpy(dtype=float)


def train(pairs, epochs=500, lr=0.5, l2=1e-3):
    # Bradley-Terry: P(A > B) = sigmoid(w . (f(A) - f(B))); ties are the soft target 0.5.
    x, y = differences(pairs)
    w = np.zeros(x.shape[1])
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= lr * (x.T @ (p - y) / len(y) + l2 * w)
    return w


def accuracy(w, pairs):
    x, y = differences(pairs)
    margin, decisive = x @ w, y != 0.5
    hits = np.where(margin == 0, 0.5, (margin > 0) == (y > 0.5))
    return float(hits[decisive].mean()) if decisive.any() else float("nan")


np.random.seed(SEED)
w = train(parts["train"])
pd.Series(w, index=columns).sort_values()"""

EVALUATE = """results = {k: accuracy(w, v) for k, v in parts.items()}
report = release / "validation" / "report.json"
released = None
if report.exists():
    released = json.loads(report.read_text()).get("ranking", {}) or {}
    released = (released.get("overall") or {}).get("accuracy")
print(f"test ranking accuracy of the small model: {results['test']:.3f} "
      f"on {len(parts['test'])} pairs")
print(f"released model (validation report): {released}")
results"""


def build_notebook(*, seed: int) -> Any:
    """The notebook, with fixed cell ids so the same release gives the same bytes."""
    cells = [
        _V4.new_markdown_cell(INTRO),
        _V4.new_code_cell(LOAD.format(seed=seed)),
        _V4.new_code_cell(SPLIT.format()),
        _V4.new_code_cell(FEATURES),
        _V4.new_code_cell(TRAIN),
        _V4.new_code_cell(EVALUATE),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    notebook = _V4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def write_notebook(folder: Path, *, seed: int) -> Path:
    """Write `train_reward_model.ipynb` into `folder` atomically; returns its path."""
    notebook = build_notebook(seed=seed)
    nbformat.validate(notebook)
    return write_atomic(folder / NOTEBOOK_FILE, lambda tmp: _WRITE(notebook, str(tmp)))
