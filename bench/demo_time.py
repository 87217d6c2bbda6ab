#!/usr/bin/env python
"""How long a newcomer waits: `make demo` on a fresh clone with an empty home directory.

    python bench/demo_time.py [--json OUT.json] [--keep]

Clones this repository's HEAD into a temporary folder, runs `make demo` there with HOME pointing
at an empty folder (no pip cache, no model cache, no index), and timestamps every line it
prints. Reports the seconds to the end of the install, to the first results table (the first
answer) and to the end of the command (the full index, English leg included, and its answers),
with the commit and the machine's load before and after: a busy machine stretches every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import git_state, loadavg  # noqa: E402

TABLE_HEADER = re.compile(r"┃\s*#\s*┃")  # the first line of a results table


def run_demo(keep: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="oncosearch-demo-"))
    try:
        repo, home = tmp / "repo", tmp / "home"
        home.mkdir()
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        shared = ROOT.parent / "shared"
        if shared.is_dir():
            (tmp / "shared").symlink_to(shared)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ONCOSEARCH_", "VIRTUAL_ENV"))}
        env |= {"HOME": str(home), "COLUMNS": "100"}
        marks: dict[str, float] = {}
        lines: list[tuple[float, str]] = []
        t0 = time.perf_counter()
        proc = subprocess.Popen(["make", "demo"], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter() - t0
            lines.append((round(now, 1), line.rstrip("\n")))
            if "indexing the bundled sample" in line and "installed" not in marks:  # the build's first log line
                marks["installed"] = now
            if TABLE_HEADER.search(line) and "first_answer" not in marks:
                marks["first_answer"] = now
        code = proc.wait()
        total = time.perf_counter() - t0
        if code != 0:
            tail = "\n".join(text for _, text in lines[-15:])
            raise SystemExit(f"make demo failed with exit code {code} after {total:.0f} s:\n{tail}")
        return {"install_s": round(marks.get("installed", float("nan")), 1),
                "first_answer_s": round(marks.get("first_answer", float("nan")), 1), "total_s": round(total, 1),
                "tables": sum(1 for _, text in lines if TABLE_HEADER.search(text))}
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the clone and its home for a look afterwards")
    args = parser.parse_args(argv)
    before, state = loadavg(), git_state(ROOT)  # the clone is of this commit (uncommitted changes are not in it)
    figures = run_demo(args.keep)
    result = {**state, "cpus": os.cpu_count(), "loadavg_before": before, "loadavg_after": loadavg(),
              **figures}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
