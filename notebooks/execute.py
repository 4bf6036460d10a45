"""Execute notebooks in place and store their outputs, so that the repository page shows
the figures (`make notebooks`). Each runs top to bottom in a fresh kernel, in a scratch
folder (what it writes lands there); a failing cell stops with the cell and its traceback."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from parkgrid.io.atomic import atomic_write


def execute(path: Path) -> None:
    """Run ``path`` in a fresh kernel and write it back with its outputs."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as scratch:
        NotebookClient(nb, timeout=None, kernel_name="python3",
                       resources={"metadata": {"path": scratch}}).execute()
    nb.metadata.pop("widgets", None)
    atomic_write(path, lambda tmp: nbformat.write(nb, tmp))


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"executing {name}", flush=True)
        execute(Path(name))
