"""Which files outside tests and docs name each asset kind of the heating plant: the files a
new kind of the same sort has to touch (#11's target: at most 6 per kind).

    python benchmarks/kind_files.py [--root .]

A file counts for a kind when a line of code (comments and docstrings left out) names the
kind by one of its identifiers: its columns, its config class, its config field, its words
in labels ('heat pump'). Searched: src/ and models/ (the shipped parks' YAML as text).
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import tokenize
from pathlib import Path

KINDS = {
    "heat_pump": r"heat_pump|HeatPump|heat pump",
    "waste_heat": r"waste_heat|WasteHeat|waste heat|waste\b",
    "hot_tank": r"hot_tank|HOT_TANK|hot-water tank|heating\.tank",
    "boiler": r"boiler|Boiler|diesel",
}
"""Each heating kind's identifiers (case-sensitive regular expression)."""


def code_lines(path: Path) -> list[str]:
    """The lines of a Python file without its comments and docstrings (a YAML file: all)."""
    text = path.read_text("utf-8")
    if path.suffix != ".py":
        return text.splitlines()
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
                body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(
                node.value.value, str):  # attribute docstrings
            docstrings.update(range(node.lineno, node.end_lineno + 1))
    lines = text.splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col]
    return [line for i, line in enumerate(lines, 1) if i not in docstrings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    root = Path(parser.parse_args().root)
    files = sorted([*root.glob("src/**/*.py"), *root.glob("models/*.yaml")])
    text = {f: "\n".join(code_lines(f)) for f in files}
    for kind, pattern in KINDS.items():
        hits = [str(f.relative_to(root)) for f in files if re.search(pattern, text[f])]
        print(f"{kind}: {len(hits)} files")
        for hit in hits:
            print(f"  {hit}")


if __name__ == "__main__":
    main()
