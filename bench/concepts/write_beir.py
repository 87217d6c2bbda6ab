#!/usr/bin/env python
"""Write the concept dev set as a BEIR folder that `oncosearch eval` reads.

The corpus is the bundled sample exactly as `oncosearch index build` (no source) reads and
merges it, one JSON line per record with the record's own id as `_id` (so the qrels' ids match),
in the `Record.to_dict` shape that the JSONL reader reads back: a bilingual record stays one
record. Beside it go copies of queries.jsonl and qrels/test.tsv, and en/ and zh/ holding one
language's queries with their own qrels, so one folder (one evaluation index) answers every
evaluation command.
Everything here is derived from files in the repository; the folder is scratch (bench/out is
ignored) and can be rewritten at any time.

    python bench/concepts/write_beir.py bench/out/concepts
    oncosearch eval bench/out/concepts --mode hybrid
    oncosearch eval bench/out/concepts --queries bench/out/concepts/zh/queries.jsonl --mode dense
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import screen  # noqa: E402  (puts the repository root on sys.path)


def write_folder(out: Path) -> int:
    """Write corpus.jsonl, queries.jsonl, qrels/ and the en/ and zh/ splits into `out`; returns records."""
    records = screen.sample_records()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
        for rec in sorted(records, key=lambda r: r.id):
            row = {"_id": rec.id, **rec.to_dict()}
            row.pop("source")  # the path of this checkout: not part of the record
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (out / "qrels").mkdir(exist_ok=True)
    shutil.copyfile(HERE / "queries.jsonl", out / "queries.jsonl")
    shutil.copyfile(HERE / "qrels" / "test.tsv", out / "qrels" / "test.tsv")
    # One language's queries with only their own qrels rows: `eval` averages over every query in
    # the qrels, so a queries file must not sit beside qrels for queries it does not hold.
    queries = (HERE / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    qrels = (HERE / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    for lang in ("en", "zh"):
        (out / lang / "qrels").mkdir(parents=True, exist_ok=True)
        mine = [line for line in queries if json.loads(line)["lang"] == lang]
        (out / lang / "queries.jsonl").write_text("\n".join(mine) + "\n", encoding="utf-8")
        rows = [qrels[0]] + [row for row in qrels[1:] if row.split("\t")[0].endswith(f"-{lang}")]
        (out / lang / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(records)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to write (created if missing), e.g. bench/out/concepts")
    args = ap.parse_args(argv)
    n = write_folder(args.out)
    print(f"{n} records -> {args.out / 'corpus.jsonl'}; queries and qrels copied beside it")


if __name__ == "__main__":
    main()
