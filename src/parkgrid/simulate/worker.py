"""The second process of a run: the baselines and the bound while the strategy runs.

Parent side: :class:`Background` starts ``python -m parkgrid.simulate.worker ARGS OUT``.
Child side: :func:`main` reads the pickled arguments of
:func:`parkgrid.simulate.run.reference_runs`, prints progress lines
``task<TAB>done<TAB>total<TAB>cost`` and pickles the result to OUT.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Background:
    """:func:`reference_runs` in a second process (``python -m parkgrid.simulate.worker``).

    Arguments and results travel as pickle files in a temporary folder; progress comes
    back as tab-separated lines (task, done, total, cost) on the child's stdout, read by a
    thread and forwarded by :meth:`poll` from the main thread.
    """

    def __init__(self, refs: tuple, report: Callable[..., None] | None) -> None:
        self.refs = refs
        self.report = report
        self.latest: dict[str, tuple[int, int, float | None]] = {}
        self.shown: dict[str, tuple[int, int, float | None]] = {}
        self.tmp = tempfile.TemporaryDirectory(prefix="parkgrid-refs-")
        folder = Path(self.tmp.name)
        self.result_path = folder / "result.pickle"
        args_path = folder / "args.pickle"
        args_path.write_bytes(pickle.dumps(refs))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parkgrid.simulate.worker", str(args_path),
             str(self.result_path)],
            stdout=subprocess.PIPE, stderr=self._stderr(folder), text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _stderr(self, folder: Path) -> Any:
        """A file for the child's messages (a pipe nobody reads could fill up and block it)."""
        self.err = (folder / "stderr.log").open("w")
        return self.err

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4:
                cost = float(parts[3]) if parts[3] else None
                self.latest[parts[0]] = (int(parts[1]), int(parts[2]), cost)

    def poll(self) -> None:
        """Forward the latest progress of each task (non-blocking)."""
        if self.report is None:
            return
        for task, state in list(self.latest.items()):
            if self.shown.get(task) != state:
                self.shown[task] = state
                self.report(task, *state)

    def cancel(self) -> None:
        """Stop the child (the run was interrupted) and remove its files."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.err.close()
        self.tmp.cleanup()

    def result(self) -> tuple[dict[str, Any], Any, str | None]:
        """Wait for the child; its results, or the same computed here if it failed."""
        try:
            while self.proc.poll() is None:
                self.reader.join(timeout=0.2)
                self.poll()
            self.reader.join()
            self.poll()
            if self.proc.returncode == 0 and self.result_path.exists():
                return pickle.loads(self.result_path.read_bytes())
        finally:
            self.err.close()
            self.tmp.cleanup()
        from parkgrid.simulate.run import reference_runs

        return reference_runs(*self.refs, report=self.report)


def main(argv: list[str]) -> int:
    from parkgrid.simulate.run import reference_runs

    refs = pickle.loads(Path(argv[0]).read_bytes())

    def report(task: str, done: int, total: int, cost: float | None) -> None:
        print(f"{task}\t{done}\t{total}\t{'' if cost is None else cost}", flush=True)

    result = reference_runs(*refs, report=report)
    Path(argv[1]).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
