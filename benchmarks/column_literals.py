"""Count the quoted schedule-column names outside the schedule module and the registry (#11:
the pipeline should read the registry, not name columns).

    python benchmarks/column_literals.py [ROOT] [-v]

A literal is a column of ``SCHEDULE_COLUMNS`` in quotes, ``"battery_charge_kw"``, or at the
start of an f-string with a suffix, ``f"battery_charge_kw_{name}"``, in src/**/*.py except
model/schedule.py and model/registry.py. ``-v`` lists the count per file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "-v"]
    root = Path(args[0] if args else Path(__file__).resolve().parents[1])
    sys.path.insert(0, str(root / "src"))
    from parkgrid.model.schedule import SCHEDULE_COLUMNS

    names = sorted(set(SCHEDULE_COLUMNS), key=len, reverse=True)
    alternatives = "|".join(map(re.escape, names))
    pattern = re.compile(r"""f?(["'])(""" + alternatives + r""")(\1|_\{)""")
    per_file = {}
    for path in sorted((root / "src").rglob("*.py")):
        rel = path.relative_to(root / "src").as_posix()
        if rel in ("parkgrid/model/schedule.py", "parkgrid/model/registry.py"):
            continue
        if count := len(pattern.findall(path.read_text("utf-8"))):
            per_file[rel] = count
    print(f"{sum(per_file.values())} quoted schedule-column names outside model/schedule.py "
          f"and model/registry.py")
    if "-v" in sys.argv:
        for rel, count in sorted(per_file.items(), key=lambda x: -x[1]):
            print(f"{count:4d} {rel}")


if __name__ == "__main__":
    main()
