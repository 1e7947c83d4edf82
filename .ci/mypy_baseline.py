"""mypy against a committed baseline that only shrinks (issue 28).

    .venv/bin/python .ci/mypy_baseline.py            # check (what .ci/run does)
    .venv/bin/python .ci/mypy_baseline.py --update   # rewrite the baseline after fixing errors

mypy runs with the settings of ``[tool.mypy]`` in pyproject.toml. Its errors are counted per file
and error code and compared with ``.ci/mypy-baseline.txt``:

* more errors of a code in a file than the baseline allows (or a new file or code): fail, listing
  that file's errors of that code;
* fewer: fail too, asking for ``--update`` — so the committed baseline always says what is left,
  and a fixed error cannot come back unnoticed.

Counting per file and code (not per line) keeps the baseline still when code moves about.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\n]+\.py):\d+(?::\d+)?: error: .*?\s+\[(?P<code>[\w-]+)\]$")
HEADER = """\
# mypy errors still accepted, per file and error code: path<TAB>code<TAB>count.
# Written by `.venv/bin/python .ci/mypy_baseline.py --update`; it may only shrink.
"""


def run_mypy() -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], list[str]]]:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--show-error-codes", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"mypy failed to run (exit {done.returncode})")
    counts: Counter[tuple[str, str]] = Counter()
    lines: dict[tuple[str, str], list[str]] = {}
    for line in done.stdout.splitlines():
        match = ERROR.match(line.strip())
        if match:
            key = (match["path"].replace("\\", "/"), match["code"])
            counts[key] += 1
            lines.setdefault(key, []).append(line)
    return counts, lines


def read_baseline() -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    if BASELINE.exists():
        for line in BASELINE.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                path, code, count = line.split("\t")
                counts[(path, code)] = int(count)
    return counts


def write_baseline(counts: Counter[tuple[str, str]]) -> None:
    rows = [f"{path}\t{code}\t{n}" for (path, code), n in sorted(counts.items()) if n]
    BASELINE.write_text(HEADER + "\n".join(rows) + ("\n" if rows else ""), encoding="utf-8")


def main(argv: list[str]) -> int:
    counts, lines = run_mypy()
    if "--update" in argv:
        old = read_baseline()
        grown = {k: n for k, n in counts.items() if n > old.get(k, 0)}
        if grown and "--allow-growth" not in argv:
            for key in sorted(grown):
                print("\n".join(lines[key]))
            print(
                f"mypy: {sum(grown.values())} errors more than the baseline; fix them "
                "(the baseline only shrinks; --allow-growth exists for a new checker setting)"
            )
            return 1
        write_baseline(counts)
        print(f"mypy: baseline written, {sum(counts.values())} errors in {len(counts)} places")
        return 0
    baseline = read_baseline()
    grown = sorted(k for k, n in counts.items() if n > baseline.get(k, 0))
    shrunk = sorted(k for k, n in baseline.items() if counts.get(k, 0) < n)
    for key in grown:
        print(f"{key[0]}: [{key[1]}] {counts[key]} errors, the baseline allows {baseline[key]}:")
        print("\n".join(lines[key]))
    if grown:
        print(f"mypy: new errors in {len(grown)} places (above); fix them")
        return 1
    if shrunk:
        for path, code in shrunk:
            print(f"{path}: [{code}] {counts.get((path, code), 0)} < {baseline[(path, code)]}")
        print(
            "mypy: fewer errors than the baseline (well done): run "
            ".venv/bin/python .ci/mypy_baseline.py --update and commit .ci/mypy-baseline.txt"
        )
        return 1
    print(f"mypy: {sum(counts.values())} errors, as in the baseline; none new")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
