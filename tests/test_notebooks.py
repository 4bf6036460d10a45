"""The notebooks in notebooks/: stored with the outputs of `make notebooks` (so the repository
page shows their figures), notebook 01 on the report's seed, and each runs top to bottom in a
fresh kernel without an error (slow: each rolls the park out for weeks to a year)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = ["01_haiyan_year.ipynb", "02_day_ahead.ipynb", "03_design_choices.ipynb"]


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_with_the_outputs_of_one_run_top_to_bottom(path: Path) -> None:
    """Every code cell executed once, in order, in one kernel (as `make notebooks` does), no
    error among the outputs, and the figures are there."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        f"{path.name}: re-run it with `make notebooks`")
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no figure"
    assert "widgets" not in nb.metadata


def test_notebook_01_uses_the_seed_of_parkgrid_run() -> None:
    """Notebook 01's year and the report of `parkgrid run` (default seed) are the same run."""
    import inspect
    import re

    from parkgrid import cli

    seed = inspect.signature(cli.run).parameters["seed"].default
    nb = nbformat.read(NOTEBOOKS_DIR / "01_haiyan_year.ipynb", as_version=4)
    calls = [m for c in nb.cells if c.cell_type == "code"
             for m in re.findall(r"run_period\(.*?seed=(\d+)", c.source, re.S)]
    assert calls == [str(seed)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_explains_what_the_reader_sees(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    prose = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert prose[0].source.startswith("# ")
    assert len(prose) >= len(code) // 2


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path: Path, tmp_path: Path) -> None:
    """Executed in a scratch folder (what the notebook writes lands there); any error in any
    cell fails the test with the cell and the traceback."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"
