"""The release notebook runs from scratch under nbclient and beats chance on the test split."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from robopref.release import ReleaseResult
from robopref.release.notebook import NOTEBOOK_FILE


def test_notebook_trains_and_evaluates_on_the_test_split(
    built: ReleaseResult, tmp_path: Path
) -> None:
    folder = tmp_path / "release"
    shutil.copytree(built.folder, folder)  # run on a copy: executing must not touch the release
    notebook = nbformat.read(folder / NOTEBOOK_FILE, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    outputs = [
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        for o in cell.get("outputs", [])
    ]
    kinds = {o.get("output_type") for c in notebook.cells for o in c.get("outputs", [])}
    assert "error" not in kinds
    line = next(o for o in outputs if "test ranking accuracy of the small model" in o)
    accuracy = float(line.split(":")[1].split()[0])
    assert accuracy >= 0.75  # labels come from the true quality; chance is 0.5
    assert "released model (validation report): 0." in "".join(outputs)
