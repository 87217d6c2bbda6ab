"""Fusion settings chosen on one half of each dev set and reported on the other half.

    python bench/tune_split.py                       (every dev set; builds missing eval indexes first)
    python bench/tune_split.py --evidence-cache DIR  (keep each set's leg scores in DIR: reruns take seconds)

Why: a grid chosen on the whole of the dev sets met every target there and gave way on unseen
queries of the same kinds. Here each set's judged queries are split in two halves by a hash of
the query id (`half`), so a question and its translation (pubmedqa-zh and pubmedqa share ids; the
concepts set's `c01-en` / `c01-zh`; a WMT18 pair in both directions) fall in the same half. The
setting is chosen on the tune halves only, by `CRITERION`, and every set's tune and held-back
halves are reported for hybrid and for each single leg, for the shipped weights ("before") and
for the chosen ones ("after"). The grid is bench/tune.py's, with the English share for English
and for Chinese queries apart and a switch for the leg-trust rule (`search.fusion`). Per query the
legs run once (`Searcher.evidence`, as bench/tune.py); each grid point only recombines them with
`fuse`. Held-out splits of the benchmarks are never read here: both halves are dev data.

Every grid point carries the shipped query-shape levers (`LEVERS`: short queries toward BM25,
bench/levers.py; the consensus step, bench/consensus.py), so "before" is the fusion as shipped.
The chosen setting replaces it only through `GATE`, which the output states with the halves
where it fails.

Output: a table on stdout and bench/out/results-tune-split.json (with the commit it ran at).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import itertools
import json
import pickle
import re
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import tune  # noqa: E402
from run import git_state  # noqa: E402

from corpus.readers import read_file  # noqa: E402
from search.engine import Searcher  # noqa: E402
from search.evaluate import eval_index, load_beir, metrics  # noqa: E402
from search.fusion import THREE_LEGS, FusionWeights, add_english, consensus_winner, fuse_two, margin, normalise, place_first  # noqa: E402
from search.query import is_short  # noqa: E402

HEADLINE = {"pubmedqa": "mrr@10", "pubmedqa+onco": "mrr@10", "pubmedqa-zh": "mrr@10", "liveqa": "ndcg@10",
            "wmt18 zh->en": "recall@1", "wmt18 en->zh": "recall@1", "concepts": "ndcg@10"}
CONCEPTS = ROOT / "bench" / "out" / "concepts"  # written by bench/concepts/write_beir.py (scratch)
TRUSTS = (False, True)  # search.fusion.FusionWeights.trust: off (today) / on
LEVERS = THREE_LEGS  # its query-shape levers (short queries: BM25 and English shares; consensus) apply at every point
GATE = ("the chosen setting ships only if, on every set's held-back half, it is at least as good as the "
        "shipped one and not below the best single leg")
CRITERION = ("the highest worst-case, over the sets' tune halves, of hybrid ÷ the best single leg on "
             "that half (any lead share); ties (within 0.001) to the higher mean ratio, then to fewer "
             "free parameters (trust off, confidence 0)")


def half(qid: str) -> str:
    """'tune' or 'held': a fixed hash of the query id without its language suffix, so a question and
    its translation (same id, or `c01-en` / `c01-zh`) land in the same half."""
    base = re.sub(r"-(en|zh)$", "", qid)
    return "tune" if hashlib.sha1(base.encode()).digest()[0] % 2 == 0 else "held"


@dataclass
class Reading:
    """What the legs said about one query, reduced to what fusion needs (picklable, small)."""

    lang: str
    coverage: float  # the lexical leg's vocabulary coverage of the query
    dense: dict[int, float]
    lexical: dict[int, float]
    lexical_proposed: list[int]  # the lexical leg's own candidates (its ranking alone)
    views: dict[int, tuple[float, float]]  # English leg: rowid -> (lead passage, best passage) cosines
    ids: dict[int, str] | None = None  # rowid -> record id, for the candidates only
    proposed: dict[str, list[int]] | None = None  # leg -> its own candidates (None: cached before this was kept)

    def english(self, lead_weight: float) -> dict[int, float]:
        return tune.english_scores(self.views, lead_weight)

    def scores(self, lead_weight: float) -> dict[str, dict[int, float]]:
        return {"dense": self.dense, "lexical": self.lexical, "english": self.english(lead_weight)}


def concepts_folder() -> Path:
    """The concepts set's BEIR folder (written from bench/concepts when missing)."""
    if not (CONCEPTS / "corpus.jsonl").exists():
        sys.path.insert(0, str(ROOT / "bench" / "concepts"))
        from write_beir import write_folder

        write_folder(CONCEPTS)
    return CONCEPTS


def dev_sets(chosen: list[str]):
    """bench/tune.py's dev sets, and the concepts set (bilingual concept queries over the sample)."""
    yield from tune.dev_sets(chosen)
    if "concepts" in chosen:
        bench = load_beir(concepts_folder())
        yield "concepts", read_file(bench.corpus, "jsonl").records, bench.queries, bench.qrels, "concepts"


def read_set(records, queries: dict, qrels: dict, index_name: str, cache: Path | None) -> dict[str, Reading]:
    """Every judged query's `Reading` on the set's eval index (from `cache` when it holds this index's)."""
    index_dir = eval_index(records, None, index_name)[0]
    judged = {q: t for q, t in queries.items() if any(g > 0 for g in qrels.get(q, {}).values())}
    key = hashlib.sha1(json.dumps(sorted(judged.items())).encode()).hexdigest()[:10]
    path = cache / f"{index_dir.name}-{key}.pkl" if cache else None
    if path and path.exists():
        return {q: Reading(**d) for q, d in pickle.loads(path.read_bytes()).items()}
    searcher = Searcher(index_dir, weights=THREE_LEGS, syntax=False)  # questions as plain text, as eval
    ids = {s.rowid: s.record.id for s in searcher.storage.iter_records()}
    out = {}
    for qid, text in judged.items():
        ev = searcher.evidence(searcher.query(text), 10, None, "hybrid")
        lexical = ev.results["lexical"]
        english = ev.results.get("english")
        pool = set(ev.results["dense"].scores) | set(lexical.scores) | (set(english.scores) if english else set())
        out[qid] = Reading(ev.query.lang, lexical.coverage, ev.results["dense"].scores, lexical.scores,
                           sorted(ev.proposed.get("lexical", ())), english.views if english else {},
                           {r: ids[r] for r in pool}, {k: sorted(v) for k, v in ev.proposed.items()})
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps({q: asdict(r) for q, r in out.items()}))  # plain data: no class path
    return out


def value(reading: Reading, scores: dict[int, float], rels: dict[str, int], metric: str) -> float:
    """The set's headline metric (each reads the top 10 only) for one query ranked by `scores`, in
    bench/tune.py's order (score, then rowid)."""
    if len(scores) > 10:
        tenth = heapq.nlargest(10, scores.values())[-1]
        scores = {r: s for r, s in scores.items() if s >= tenth}
    top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return metrics({"q": [reading.ids[r] for r, _ in top]}, {"q": rels})[metric]


def contenders(reading: Reading, depth: int = 10) -> set[int]:
    """Candidates that can reach the top `depth` under some grid point: the rest have `depth`
    others at least as good on every leg and view (and ahead by score or rowid), so every convex
    mix of the normalised legs ranks them lower. The top two of each leg stay (their margins)."""
    rows = np.array(sorted(reading.dense))
    d = np.array([reading.dense[r] for r in rows])
    lx = np.array([reading.lexical.get(r, 0.0) for r in rows])
    has = np.array([r in reading.views for r in rows])
    lead = np.array([reading.views.get(r, (0.0, 0.0))[0] for r in rows])
    best = np.array([reading.views.get(r, (0.0, 0.0))[1] for r in rows])
    legs = np.stack([d, lx, lead, best])  # (4, n)
    geq = (legs[:, :, None] >= legs[:, None, :]).all(axis=0)  # [y, x]: y at least as good as x everywhere
    ahead = (legs[:, :, None] > legs[:, None, :]).any(axis=0) | (rows[:, None] < rows[None, :])
    # a record without English keeps its USE + BM25 score whole: only compare those with English alike
    same = has[:, None] == has[None, :]
    beaten = (geq & ahead & same).sum(axis=0)
    keep = set(rows[(beaten < depth) | ~has].tolist()) if has.any() else set(rows[beaten < depth].tolist())
    for leg in [reading.dense, reading.lexical, *(reading.english(lw) for lw in tune.LEAD_WEIGHTS)]:
        keep.update(heapq.nlargest(2, leg, key=leg.get))
    return keep


@dataclass(frozen=True)
class Grid:
    """Per-query values of every grid point, for one set. Axis 0: (dense, confidence, coverage,
    lead, trust) combinations (`base`); axis 1: the English share (for the query's own language);
    axis 2: the set's queries (`qids`)."""

    qids: list[str]
    langs: np.ndarray  # "zh" / "en" per query
    halves: np.ndarray  # "tune" / "held" per query
    base: list[tuple]
    values: np.ndarray
    singles: dict[str, np.ndarray]  # "dense", "lexical", "english lead=x": per-query values


BASE = [b for b in itertools.product(tune.DENSE_WEIGHTS, tune.CONFIDENCES, tune.COVERAGE_POWERS, tune.LEAD_WEIGHTS,
                                     TRUSTS) if b[1] or not b[4]]  # trust acts through confidence: none without


def weights_of(base: tuple, english: float) -> FusionWeights:
    """A grid point, with the shipped query-shape levers (`LEVERS`) on, as in every search."""
    dw, cf, cp, lw, trust = base
    return FusionWeights(dense_weight=dw, confidence=cf, coverage_power=cp, english_weight=english,
                         english_weight_zh=english, lead_weight=lw, trust=trust,
                         short_dense_weight=LEVERS.short_dense_weight, consensus=LEVERS.consensus,
                         short_english_weight_zh=LEVERS.short_english_weight_zh)



def grid(readings: dict[str, Reading], qrels: dict, metric: str, queries: dict[str, str]) -> Grid:
    """Every grid point's per-query value (the English share applies to each query's own language).

    The same arithmetic as `fuse`, step by step: each leg normalised once per query, the USE + BM25
    step once per (dense, confidence, coverage) point, then only the English step varies; last, the
    consensus step (`LEVERS.consensus`), whose winner depends on the lead share only."""
    qids = sorted(readings)
    values = np.zeros((len(BASE), len(tune.ENGLISH_WEIGHTS), len(qids)))
    singles = {name: np.zeros(len(qids)) for name in ("dense", "lexical", *(f"english lead={lw}"
                                                                           for lw in tune.LEAD_WEIGHTS))}
    for j, qid in enumerate(qids):
        r, rels = readings[qid], qrels[qid]
        short = is_short(queries[qid], r.lang)
        agrees = LEVERS.agrees_for(r.lang, short)
        singles["dense"][j] = value(r, r.dense, rels, metric)
        singles["lexical"][j] = value(r, {x: r.lexical[x] for x in r.lexical_proposed}, rels, metric)
        english = {}
        for lw in tune.LEAD_WEIGHTS:
            raw = r.english(lw)
            singles[f"english lead={lw}"][j] = value(r, raw, rels, metric)
            english[lw] = normalise(raw) if raw else None
        raw_margins = {lw: (margin(r.dense), margin(r.english(lw))) for lw in tune.LEAD_WEIGHTS}
        winners = {lw: consensus_winner({"dense": r.dense, "lexical": r.lexical, "english": r.english(lw)})
                   if agrees else None for lw in tune.LEAD_WEIGHTS}
        winner_two = consensus_winner({"dense": r.dense, "lexical": r.lexical}) if agrees else None  # English off
        keep = contenders(r)
        english = {lw: {x: s for x, s in e.items() if x in keep} if e else None for lw, e in english.items()}
        dense = {x: s for x, s in normalise(r.dense).items() if x in keep}
        lexical = ({x: s for x, s in normalise(r.lexical).items() if x in keep}
                   if r.lexical and max(r.lexical.values()) > 0 else None)
        two = {}
        for b, base in enumerate(BASE):
            if base[:3] not in two:
                two[base[:3]] = fuse_two(dense, lexical, weights_of(base, 0.0), r.coverage, short)
            for e, ew in enumerate(tune.ENGLISH_WEIGHTS):
                w = weights_of(base, ew)
                if ew == 0 and w.english_for(r.lang, short) == 0 and (base[3] != tune.LEAD_WEIGHTS[0] or base[4]):
                    # English off: lead, trust idle
                    values[b, e, j] = values[BASE.index((*base[:3], tune.LEAD_WEIGHTS[0], False)), e, j]
                    continue
                fused = add_english(two[base[:3]], english[w.lead_weight], w, r.lang, raw_margins[w.lead_weight],
                                    short)
                on = w.english_for(r.lang, short) > 0
                values[b, e, j] = value(r, place_first(fused, winners[w.lead_weight] if on else winner_two),
                                        rels, metric)
    return Grid(qids, np.array([readings[q].lang for q in qids]), np.array([half(q) for q in qids]), BASE,
                values, singles)


def signals(readings: dict[str, Reading]) -> dict:
    """Medians of the per-query signals a leg-trust rule can read, per half: the raw top-two gap of
    USE's and of MiniLM's cosines (lead share 0.3) and BM25's vocabulary coverage of the query."""
    out = {}
    for part in ("tune", "held"):
        rs = [r for q, r in readings.items() if half(q) == part]
        out[part] = {"use margin": float(np.median([margin(r.dense) for r in rs])),
                     "minilm margin": float(np.median([margin(r.english(0.3)) for r in rs])),
                     "bm25 coverage": float(np.median([r.coverage for r in rs]))}
        out[part] = {k: round(v, 3) for k, v in out[part].items()}
    return out


def setting_means(g: Grid, part: str) -> np.ndarray:
    """Mean value on one half for every full setting: shape (base, English share en, English share zh)."""
    n = len(tune.ENGLISH_WEIGHTS)
    total = np.zeros((len(g.base), n, n))
    mask = g.halves == part
    for lang, axis in (("en", 2), ("zh", 1)):  # a query's value does not depend on the other language's share
        m = mask & (g.langs == lang)
        if m.any():
            total += np.expand_dims(g.values[:, :, m].sum(axis=2), axis)
    return total / mask.sum()


def best_single(g: Grid, part: str) -> tuple[str, float]:
    mask = g.halves == part
    return max(((k, float(v[mask].mean())) for k, v in g.singles.items()), key=lambda kv: kv[1])


def index_of(w: FusionWeights) -> tuple[int, int, int]:
    base = (w.dense_weight, w.confidence, w.coverage_power, w.lead_weight, w.trust)
    return (BASE.index(base), tune.ENGLISH_WEIGHTS.index(w.english_weight),
            tune.ENGLISH_WEIGHTS.index(w.english_weight_zh))


def choose(grids: dict[str, Grid], trust: tuple[bool, ...] = TRUSTS) -> FusionWeights:
    """The setting `CRITERION` picks on the tune halves (among those with `trust` in `trust`)."""
    ratios = np.stack([setting_means(g, "tune") / best_single(g, "tune")[1] for g in grids.values()])
    worst, mean = ratios.min(axis=0), ratios.mean(axis=0)
    n = len(tune.ENGLISH_WEIGHTS)
    best = None
    for b, e_en, e_zh in itertools.product(range(len(BASE)), range(n), range(n)):
        dw, cf, cp, lw, on = BASE[b]
        if on not in trust:
            continue
        key = (round(float(worst[b, e_en, e_zh]), 3), round(float(mean[b, e_en, e_zh]), 3), not on, cf == 0)
        if best is None or key > best[0]:
            best = (key, (b, e_en, e_zh))
    b, e_en, e_zh = best[1]
    return replace(weights_of(BASE[b], tune.ENGLISH_WEIGHTS[e_en]), english_weight_zh=tune.ENGLISH_WEIGHTS[e_zh])


def report(grids: dict[str, Grid], before: FusionWeights, after: FusionWeights, twins: dict) -> dict:
    """Per set and half: hybrid before/after, each single leg, and hybrid ÷ best single leg."""
    out = {}
    for name, g in grids.items():
        out[name] = {}
        for part in ("tune", "held"):
            mask = g.halves == part
            row = {"queries": int(mask.sum())}
            for label, w in (("before", before), ("after", after)):
                row[label] = round(float(setting_means(g, part)[index_of(w)]), 4)
            for leg in ("dense", "lexical"):
                row[leg] = round(float(g.singles[leg][mask].mean()), 4)
            for label, w in (("before", before), ("after", after)):
                row[f"english ({label} lead)"] = round(float(g.singles[f"english lead={w.lead_weight}"][mask].mean()), 4)
            leg, best = best_single(g, part)
            row["best single"] = {"leg": leg, "value": round(best, 4)}
            for label in ("before", "after"):
                row[f"ratio {label}"] = round(row[label] / best, 4)
            out[name][part] = row
    if twins:  # Chinese questions against their English twins (pubmedqa-zh vs the same ids of pubmedqa)
        zh, en = grids["pubmedqa-zh"], grids["pubmedqa"]
        for part in ("tune", "held"):
            ids = [q for q, h in zip(zh.qids, zh.halves, strict=True) if h == part]
            zi = [zh.qids.index(q) for q in ids]
            ei = [en.qids.index(q) for q in ids]
            for label, w in (("before", before), ("after", after)):
                b, e_en, e_zh = index_of(w)
                z = float(zh.values[b, e_zh, zi].mean())
                e = float(en.values[b, e_en, ei].mean())
                out["pubmedqa-zh"][part][f"zh/en {label}"] = {"zh": round(z, 4), "en": round(e, 4),
                                                              "ratio": round(z / e, 4)}
    return out


def gate(rep: dict) -> tuple[bool, list[str]]:
    """Whether the chosen setting replaces the shipped one (`GATE`), and the held halves where it fails."""
    fails = [f"{name} held ({r['after']:.3f} vs {r['before']:.3f}, best single {r['best single']['value']:.3f})"
             for name, parts in rep.items() for r in [parts["held"]]
             if r["after"] < r["before"] or r["after"] < r["best single"]["value"]]
    return not fails, fails


def table(rep: dict) -> str:
    lines = ["| set (metric) | half | n | hybrid before | hybrid after | dense | lexical | english (before lead) "
             "| english (after lead) | best single | ratio before | ratio after |", "|" + "---|" * 12]
    for name, parts in rep.items():
        for part, r in parts.items():
            lines.append(f"| {name} ({HEADLINE[name]}) | {part} | {r['queries']} | {r['before']:.3f} | "
                         f"**{r['after']:.3f}** | {r['dense']:.3f} | {r['lexical']:.3f} | "
                         f"{r['english (before lead)']:.3f} | {r['english (after lead)']:.3f} | "
                         f"{r['best single']['value']:.3f} ({r['best single']['leg']}) | "
                         f"{r['ratio before']:.3f} | {r['ratio after']:.3f} |")
    lines.append("")
    for part in ("tune", "held"):
        zh = rep.get("pubmedqa-zh", {}).get(part, {})
        for label in ("before", "after"):
            if f"zh/en {label}" in zh:
                t = zh[f"zh/en {label}"]
                lines.append(f"PubMedQA Chinese ÷ English MRR@10, same questions, {part} half, {label}: "
                             f"{t['zh']:.3f} / {t['en']:.3f} = {t['ratio']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="*", default=[*tune.SETS, "wmt18 zh->en", "wmt18 en->zh", "concepts"])
    ap.add_argument("--evidence-cache", type=Path, default=None,
                    help="folder for each set's leg scores (reused when the index and queries are the same)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "results-tune-split.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    grids, measured, timing = {}, {}, {}
    for name, records, queries, qrels, index_name in dev_sets(args.sets):
        t = time.perf_counter()
        readings = read_set(records, queries, qrels, index_name, args.evidence_cache)
        t1 = time.perf_counter()
        grids[name] = grid(readings, qrels, HEADLINE[name], queries)
        measured[name] = signals(readings)
        timing[name] = {"legs_s": round(t1 - t, 1), "grid_s": round(time.perf_counter() - t1, 1)}
        print(f"{name}: {len(readings)} queries, legs {t1 - t:.0f} s, grid {time.perf_counter() - t1:.0f} s",
              file=sys.stderr, flush=True)
    after = choose(grids)
    twins = "pubmedqa-zh" in grids and "pubmedqa" in grids
    rep = report(grids, THREE_LEGS, after, twins)
    ship, why = gate(rep)
    # the leg-trust rule measured on its own: the best setting with it on against the best with it off
    trusted = choose(grids, trust=(True,))
    untrusted = choose(grids, trust=(False,))
    trust = {"on": asdict(trusted), "off": asdict(untrusted), "sets": report(grids, untrusted, trusted, twins)}
    result = {"git": git_state(ROOT), "criterion": CRITERION, "split": "sha1(query id without -en/-zh)[0] even: tune",
              "before": asdict(THREE_LEGS), "after": asdict(after), "gate": GATE, "ship after": ship, "gate fails": why,
              "sets": rep, "trust (before: off, after: on)": trust,
              "signals (medians)": measured,
              "seconds": timing, "total_s": round(time.perf_counter() - t0, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(table(rep))
    print(f"\nbefore: {THREE_LEGS}\nafter:  {after}")
    print(f"gate ({GATE}): {'ship after' if ship else 'keep before'}" + ("" if ship else f"; fails on {', '.join(why)}"))
    print(f"\nleg trust: best with it off ({untrusted}) vs on ({trusted}):")
    print(table(trust["sets"]))
    print("\nper-query signals, medians (tune / held): USE raw margin, MiniLM raw margin, BM25 coverage")
    for name, m in measured.items():
        print(f"  {name}: " + ", ".join(f"{m['tune'][k]:.3f} / {m['held'][k]:.3f}" for k in m["tune"]))
    print(f"\nwritten to {args.out} ({result['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
