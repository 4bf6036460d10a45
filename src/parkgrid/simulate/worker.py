"""``python -m parkgrid.simulate.worker ARGS.pickle OUT.pickle``: the baselines and the bound
of a run in a second process (see :func:`parkgrid.simulate.run.run`).

Reads the pickled arguments of :func:`parkgrid.simulate.run.reference_runs`, prints progress
lines ``task<TAB>done<TAB>total<TAB>cost`` and pickles the result to OUT.
"""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path


def main(argv: list[str]) -> int:
    import pandas.errors

    from parkgrid.simulate.run import reference_runs

    warnings.filterwarnings("ignore", category=pandas.errors.Pandas4Warning)
    refs = pickle.loads(Path(argv[0]).read_bytes())

    def report(task: str, done: int, total: int, cost: float | None) -> None:
        print(f"{task}\t{done}\t{total}\t{'' if cost is None else cost}", flush=True)

    result = reference_runs(*refs, report=report)
    Path(argv[1]).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
