#!/usr/bin/env python
"""Write the concept dev set (queries.jsonl, qrels/test.tsv) from the screening and the judgments.

The set is derived, never edited by hand: the concepts and their two queries come from
screen.py, the grades from judgments.tsv (every screened record, 0 included). A concept enters
the set when at least MIN_RELEVANT records are graded 1 or 2; its English and Chinese queries get
the same qrels rows (grades 1 and 2 only: BEIR's "absent = not relevant").

    python bench/concepts/make_set.py            # rewrite queries.jsonl and qrels/test.tsv
    python bench/concepts/make_set.py --table    # per-concept counts, as README.md shows them
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import screen  # noqa: E402

MIN_RELEVANT = 3
JUDGMENTS = HERE / "judgments.tsv"
QUERIES = HERE / "queries.jsonl"
QRELS = HERE / "qrels" / "test.tsv"


@dataclass(frozen=True)
class Judgment:
    concept: str
    corpus_id: str
    grade: int  # 2 about the concept, 1 discusses it substantially, 0 screened but not relevant
    why: str


def read_judgments(path: Path = JUDGMENTS) -> list[Judgment]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [Judgment(r["concept"], r["corpus-id"], int(r["grade"]), r["why"]) for r in rows]


def relevant(judgments: Sequence[Judgment], concept_id: str) -> list[Judgment]:
    return [j for j in judgments if j.concept == concept_id and j.grade > 0]


def kept_concepts(judgments: Sequence[Judgment]) -> list[screen.Concept]:
    """The concepts with enough relevant records to be measured; the rest are reported as dropped."""
    return [c for c in screen.CONCEPTS if len(relevant(judgments, c.id)) >= MIN_RELEVANT]


def write_set(judgments: Sequence[Judgment]) -> tuple[int, int]:
    kept = kept_concepts(judgments)
    QRELS.parent.mkdir(exist_ok=True)
    with open(QUERIES, "w", encoding="utf-8") as f:
        for c in kept:
            for lang, text in (("en", c.en), ("zh", c.zh)):
                row = {"_id": f"{c.id}-{lang}", "text": text, "lang": lang, "concept": c.name}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    rows = 0
    with open(QRELS, "w", encoding="utf-8", newline="") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for c in kept:
            for lang in ("en", "zh"):
                for j in relevant(judgments, c.id):
                    f.write(f"{c.id}-{lang}\t{j.corpus_id}\t{j.grade}\n")
                    rows += 1
    return len(kept), rows


def table(judgments: Sequence[Judgment]) -> str:
    """Markdown: per concept, screened / grade 2 / grade 1, and whether it is in the set."""
    lines = ["| id | concept | screened | grade 2 | grade 1 | in set |", "|---|---|---|---|---|---|"]
    for c in screen.CONCEPTS:
        mine = [j for j in judgments if j.concept == c.id]
        g2 = sum(j.grade == 2 for j in mine)
        g1 = sum(j.grade == 1 for j in mine)
        kept = "yes" if g1 + g2 >= MIN_RELEVANT else "no (dropped)"
        lines.append(f"| {c.id} | {c.name} | {len(mine)} | {g2} | {g1} | {kept} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", action="store_true", help="print the per-concept counts instead of writing")
    args = ap.parse_args(argv)
    judgments = read_judgments()
    if args.table:
        print(table(judgments))
        return
    concepts, rows = write_set(judgments)
    print(f"{concepts} concepts, {2 * concepts} queries, {rows} qrels rows -> {QUERIES.name}, {QRELS.parent.name}/")


if __name__ == "__main__":
    main()
