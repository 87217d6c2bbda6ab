"""Time a first build against an unchanged rerun (`index update` over the same sources).

    python bench/incremental.py              # the whole bundled sample (minutes on 2 cores)
    python bench/incremental.py --records 200

Runs the real CLI as subprocesses on a fresh index in a temporary folder (nothing cached from
elsewhere), so the figures include start-up and, for the first build, loading the model.
Results are appended as one JSON line to bench/out/incremental.jsonl and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "incremental.jsonl"


def run(*args: str | Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-c", "from search.cli import main; main()", *map(str, args), "--json", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=0, help="use only the first N sample records (0: all)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from corpus.readers import read_file
    from index.pipeline import sample_sources

    with tempfile.TemporaryDirectory(prefix="oncosearch-bench-") as tmp:
        tmp = Path(tmp)
        sources = sample_sources()
        if args.records:
            records = read_file(sources[0]).records[: args.records]
            subset = tmp / "subset.jsonl"
            subset.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records))
            sources = [subset]
        index = tmp / "index"
        build_s, build = run("index", "build", *sources, "--index", index)
        rerun_s, rerun = run("index", "update", *sources, "--index", index)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "host": platform.node(),
        "cpus": os.cpu_count(), "load": os.getloadavg()[0], "records": build["index_records"],
        "first_build": {"wall_s": round(build_s, 2), "embedded_chunks": build["embedded_chunks"],
                        "seconds": build["seconds"]},
        "unchanged_rerun": {"wall_s": round(rerun_s, 2), "embedded_chunks": rerun["embedded_chunks"],
                            "unchanged": rerun["unchanged"], "seconds": rerun["seconds"]},
        "speedup": round(build_s / rerun_s, 1),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "a") as f:
        f.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
