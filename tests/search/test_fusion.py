"""Score fusion: a strong leg keeps its margin; untrusted or empty lexical legs step aside."""

from dataclasses import replace

import pytest

from search.fusion import THREE_LEGS, TWO_LEGS, FusionWeights, add_english, agree, fuse, fuse_two, margin, normalise


def weights(dense: float, confidence: float = 0.0, english: float = 0.0) -> FusionWeights:
    """Fusion weights with the lexical trust equal to the coverage given to `fuse` (power 1)."""
    return FusionWeights(dense_weight=dense, confidence=confidence, coverage_power=1.0, english_weight=english,
                         english_weight_zh=english)


def test_convex_combination_of_normalised_scores():
    dense = {1: 0.9, 2: 0.5, 3: 0.1}
    lexical = {1: 0.0, 2: 10.0, 3: 5.0}
    out = fuse({"dense": dense, "lexical": lexical}, weights(0.6))
    assert out[1] == 0.6 and out[2] == 0.6 * 0.5 + 0.4 and abs(out[3] - 0.2) < 1e-9


def test_no_lexical_match_means_dense_alone():
    dense = {1: 0.9, 2: 0.5}
    assert fuse({"dense": dense, "lexical": {1: 0.0, 2: 0.0}}, weights(0.6)) == {1: 1.0, 2: 0.0}


def test_low_coverage_hands_the_ranking_to_dense():
    dense = {1: 0.9, 2: 0.8}  # dense prefers 1
    lexical = {1: 0.0, 2: 9.0}  # lexical (stray abbreviation matches) prefers 2
    trusted = fuse({"dense": dense, "lexical": lexical}, weights(0.4), lexical_coverage=1.0)
    untrusted = fuse({"dense": dense, "lexical": lexical}, weights(0.4), lexical_coverage=0.05)
    assert max(trusted, key=trusted.get) == 2
    assert max(untrusted, key=untrusted.get) == 1


def test_coverage_power_sharpens_the_distrust():
    dense = {1: 0.9, 2: 0.8}
    lexical = {1: 0.0, 2: 9.0}
    legs = {"dense": dense, "lexical": lexical}
    flat = fuse(legs, weights(0.4), lexical_coverage=0.5)
    steep = fuse(legs, FusionWeights(dense_weight=0.4, confidence=0.0, coverage_power=4.0), lexical_coverage=0.5)
    assert steep[1] - steep[2] > flat[1] - flat[2]


def test_confidence_favours_the_decisive_leg():
    dense = {1: 0.50, 2: 0.49, 3: 0.10}  # dense barely separates 1 from 2
    lexical = {1: 1.0, 2: 20.0, 3: 0.0}  # lexical is sure about 2
    plain = fuse({"dense": dense, "lexical": lexical}, weights(0.7))
    confident = fuse({"dense": dense, "lexical": lexical}, weights(0.7, confidence=1.0))
    assert confident[2] - confident[1] > plain[2] - plain[1]


def test_english_share_follows_the_query_language():
    assert THREE_LEGS.english_for("zh") == THREE_LEGS.english_weight_zh != THREE_LEGS.english_for("en")
    no_zh = FusionWeights(dense_weight=0.5, confidence=0.0, coverage_power=1.0, english_weight=0.5)
    assert no_zh.takes_part("english", "en") and not no_zh.takes_part("english", "zh")
    assert no_zh.takes_part("lexical", "zh")
    dense, english = {1: 1.0, 2: 0.0}, {1: 0.0, 2: 1.0}
    assert fuse({"dense": dense, "english": english}, no_zh, lang="zh") == {1: 1.0, 2: 0.0}
    assert fuse({"dense": dense, "english": english}, no_zh, lang="en") == {1: 0.5, 2: 0.5}


def test_a_record_the_english_leg_cannot_read_keeps_its_other_legs_score():
    w = weights(0.5, english=0.7)
    dense, lexical = {1: 1.0, 2: 1.0, 3: 0.0}, {1: 1.0, 2: 1.0, 3: 0.0}
    english = {1: 0.0, 3: 1.0}  # record 2 has no English text: the leg has no reading of it
    fused = fuse({"dense": dense, "lexical": lexical, "english": english}, w, lang="en")
    assert fused[2] == 1.0  # not dragged to 0.3 for lacking English
    assert fused[1] == pytest.approx(0.3) and fused[3] == pytest.approx(0.7)
    assert fused[2] > fused[3] > fused[1]


# A weak leg must not overrule a confident one (issue #13). "Weak": the leg read little of the query
# (low vocabulary coverage) or its scores are flat (a tiny raw lead that min-max normalisation
# stretches to the full 0..1 range). "Confident": a clear raw margin between its top two.

def _top(scores: dict[int, float]) -> int:
    return max(scores, key=lambda r: (scores[r], -r))


def test_low_coverage_lexical_leg_does_not_overrule_confident_legs():
    dense = {1: 0.80, 2: 0.45, 3: 0.40, 4: 0.35}  # USE: record 1, by a clear margin
    english = {1: 0.70, 2: 0.40, 3: 0.38, 4: 0.35}  # MiniLM agrees
    lexical = {1: 0.5, 2: 14.0, 3: 0.2, 4: 0.0}  # BM25 is sure of 2, but knew a fifth of the query's words
    legs = {"dense": dense, "lexical": lexical, "english": english}
    assert _top(fuse(legs, THREE_LEGS, "en", lexical_coverage=0.2)) == 1
    assert _top(fuse(legs, THREE_LEGS, "zh", lexical_coverage=0.2)) == 1
    # nor without the English leg (Chinese-only records, as for an English query in WMT18 en->zh)
    assert _top(fuse({"dense": dense, "lexical": lexical}, THREE_LEGS, "en", lexical_coverage=0.2)) == 1
    assert _top(fuse({"dense": dense, "lexical": lexical}, TWO_LEGS, "en", lexical_coverage=0.2)) == 1
    # the same BM25 reading, with the whole query known, does get its say in the weighted sum (the case
    # is not one-sided; step 3's consensus, where USE and MiniLM agreeing outvote it, is tested below)
    assert _top(fuse({"dense": {1: 0.52, 2: 0.50, 3: 0.40, 4: 0.35}, "lexical": lexical, "english": english},
                     replace(THREE_LEGS, consensus="off"), "zh", lexical_coverage=1.0)) == 2


def test_flat_english_keywords_do_not_overrule_a_confident_use_on_a_chinese_query():
    # a Chinese sentence: USE reads it and finds its translation far ahead; MiniLM reads a few keyword
    # glosses and barely prefers another record (0.515 vs 0.500), which normalises to a full-scale lead
    dense = {1: 0.80, 2: 0.45, 3: 0.40, 4: 0.35}
    english = {1: 0.500, 2: 0.515, 3: 0.505, 4: 0.500}
    lexical = {1: 3.0, 2: 3.2, 3: 1.0, 4: 0.0}
    legs = {"dense": dense, "lexical": lexical, "english": english}
    fused = fuse(legs, THREE_LEGS, "zh", lexical_coverage=0.3)
    assert _top(fused) == 1
    assert fused[1] - fused[2] > 0.03


def test_a_flat_leg_with_no_preference_changes_no_order():
    dense = {1: 0.62, 2: 0.55, 3: 0.40}
    flat = {1: 0.5, 2: 0.5, 3: 0.5}  # every record the same: no information
    fused = fuse({"dense": dense, "lexical": {1: 1.0, 2: 1.0, 3: 1.0}, "english": flat}, THREE_LEGS, "zh")
    assert sorted(fused, key=fused.get, reverse=True) == [1, 2, 3]


def test_confident_english_leg_is_not_overruled_by_a_flat_use_on_an_english_question():
    dense = {1: 0.50, 2: 0.51, 3: 0.49}  # USE barely prefers 2
    english = {1: 0.85, 2: 0.40, 3: 0.35}  # MiniLM is sure of 1
    lexical = {1: 8.0, 2: 7.5, 3: 1.0}
    assert _top(fuse({"dense": dense, "lexical": lexical, "english": english}, THREE_LEGS, "en")) == 1


def test_trust_gives_the_english_leg_its_say_by_its_raw_margin():
    # weights with a larger English share for Chinese queries (what Chinese questions ask for): without
    # trust, the flat keyword reading's stretched lead beats USE's clear one; with trust, the English
    # share shrinks by confidence × (MiniLM margin − USE margin) = 0.6 + (0.015 − 0.35). The shift is in
    # raw cosine units, so it is large for a translation-like margin (0.35) and small for a 0.1 one.
    dense = {1: 0.80, 2: 0.45, 3: 0.40, 4: 0.35}
    english = {1: 0.500, 2: 0.515, 3: 0.505, 4: 0.500}
    legs = {"dense": dense, "lexical": {1: 1.0, 2: 1.0, 3: 0.0, 4: 0.0}, "english": english}
    loose = FusionWeights(dense_weight=0.5, confidence=1.0, coverage_power=4.0, english_weight=0.7,
                          english_weight_zh=0.6, lead_weight=0.3)
    assert _top(fuse(legs, loose, "zh", 0.3)) == 2  # the case: a weak leg overrules a confident one
    trusted = fuse(legs, replace(loose, trust=True), "zh", 0.3)
    assert _top(trusted) == 1
    # and a decisive English reading keeps (here: gains) its share under the same rule
    sure = {"dense": {1: 0.50, 2: 0.51, 3: 0.49}, "lexical": {1: 1.0, 2: 1.0, 3: 0.0},
            "english": {1: 0.85, 2: 0.40, 3: 0.35}}
    assert _top(fuse(sure, replace(loose, trust=True), "en")) == 1


def test_fuse_is_its_three_steps():
    legs = {"dense": {1: 0.7, 2: 0.6, 3: 0.1}, "lexical": {1: 0.0, 2: 4.0, 3: 1.0}, "english": {1: 0.9, 3: 0.2}}
    w = replace(THREE_LEGS, trust=True)
    two = fuse_two(normalise(legs["dense"]), normalise(legs["lexical"]), w, 0.5)
    stepwise = add_english(two, normalise(legs["english"]), w, "zh", (margin(legs["dense"]), margin(legs["english"])))
    assert stepwise == fuse(legs, replace(w, consensus="off"), "zh", 0.5)
    assert agree(stepwise, legs) == fuse(legs, w, "zh", 0.5)


# a Chinese question (PubMedQA-zh q19459018's shape): BM25 and MiniLM both rank record 1 first; USE
# misses it, with a question's small raw gap (0.03) against MiniLM's 0.06; BM25 knew 40% of the query
DISSENT = {"dense": {1: 0.30, 2: 0.46, 3: 0.43, 4: 0.40},
           "lexical": {1: 9.0, 2: 2.0, 3: 8.6, 4: 0.0},
           "english": {1: 0.58, 2: 0.40, 3: 0.52, 4: 0.49}}
OFF = replace(THREE_LEGS, consensus="off")


def _order(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda r: (-scores[r], r))


def test_two_legs_that_agree_on_the_answer_outvote_a_dissenter_no_more_decisive():
    off = fuse(DISSENT, OFF, "zh", 0.4)
    assert _top(off) != 1  # the case: the weighted sum lets the dissenting leg decide
    fused = fuse(DISSENT, THREE_LEGS, "zh", 0.4)
    assert _top(fused) == 1
    assert [r for r in _order(fused) if r != 1] == [r for r in _order(off) if r != 1]  # the rest keep their order
    assert fused[1] - max(v for r, v in fused.items() if r != 1) < 1e-5  # placed just above, not far above


def test_a_decisive_dissenter_is_not_outvoted():
    # USE finds a translation-like match far ahead (raw gap 0.30 > MiniLM's 0.06): it keeps its say,
    # as in test_flat_english_keywords_do_not_overrule_a_confident_use_on_a_chinese_query
    sure = {**DISSENT, "dense": {1: 0.30, 2: 0.76, 3: 0.46, 4: 0.40}}
    assert fuse(sure, THREE_LEGS, "zh", 0.4) == fuse(sure, OFF, "zh", 0.4)
    # and a dissenting MiniLM is weighed the same way against an agreeing USE
    minilm_sure = {"dense": {1: 0.60, 2: 0.55, 3: 0.40}, "lexical": {1: 5.0, 2: 4.0, 3: 0.0},
                   "english": {1: 0.30, 2: 0.75, 3: 0.35}}
    assert fuse(minilm_sure, THREE_LEGS, "zh", 1.0) == fuse(minilm_sure, OFF, "zh", 1.0)


def test_consensus_keeps_to_its_scope():
    assert THREE_LEGS.consensus == "zh" and TWO_LEGS.consensus == "off"
    for lang, short in (("en", False), ("zh", True)):  # an English query; a short Chinese one (BM25-led)
        assert fuse(DISSENT, THREE_LEGS, lang, 0.4, short) == fuse(DISSENT, OFF, lang, 0.4, short)
    assert _top(fuse(DISSENT, replace(THREE_LEGS, consensus="all"), "en", 0.4)) == 1


def test_no_majority_or_no_lexical_match_changes_nothing():
    split = {**DISSENT, "english": {1: 0.40, 2: 0.45, 3: 0.52, 4: 0.49}}  # three legs, three different firsts
    assert fuse(split, THREE_LEGS, "zh", 0.4) == fuse(split, replace(THREE_LEGS, consensus="off"), "zh", 0.4)
    # BM25 matched nothing: its all-zero scores name no first place, so record 1 has MiniLM's vote only
    blank = {**DISSENT, "lexical": {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}}
    assert _top(fuse(blank, THREE_LEGS, "zh", 0.4)) == _top(fuse(blank, replace(THREE_LEGS, consensus="off"), "zh", 0.4))
    # the winner is already first: scores are returned untouched
    agreed = {"dense": {1: 0.9, 2: 0.1}, "lexical": {1: 5.0, 2: 1.0}, "english": {1: 0.3, 2: 0.6}}
    fused = fuse(agreed, replace(THREE_LEGS, consensus="off"), "zh", 1.0)
    assert agree(fused, agreed) == fused


def test_a_short_query_leans_on_bm25():
    """A name or keyword pair ("TCR-T"): USE reads it poorly, BM25 well, so the short-query share
    decides a tie that the general share would give to USE."""
    dense = {1: 0.9, 2: 0.3, 3: 0.1}  # USE prefers record 1 ...
    lexical = {1: 0.2, 2: 0.6, 3: 0.0}  # ... BM25 record 2
    w = FusionWeights(dense_weight=0.6, confidence=0.0, coverage_power=1.0, short_dense_weight=0.1)
    assert _top(fuse({"dense": dense, "lexical": lexical}, w)) == 1
    assert _top(fuse({"dense": dense, "lexical": lexical}, w, short=True)) == 2
    plain = replace(w, short_dense_weight=None)  # no short-query setting: shape does not matter
    assert fuse({"dense": dense, "lexical": lexical}, plain, short=True) == fuse({"dense": dense, "lexical": lexical},
                                                                                 plain)
    assert THREE_LEGS.dense_for(True) < THREE_LEGS.dense_for(False) and TWO_LEGS.dense_for(True) == TWO_LEGS.dense_weight


def test_a_short_query_bm25_cannot_read_still_goes_to_use():
    """Coverage still rules: a short query whose words the term index mostly lacks (a new drug code)
    leaves BM25 matching on scraps, and USE decides."""
    dense = {1: 1.0, 2: 0.1, 3: 0.0}
    lexical = {1: 0.2, 2: 0.6, 3: 0.0}
    assert _top(fuse({"dense": dense, "lexical": lexical}, THREE_LEGS, "en", lexical_coverage=1.0, short=True)) == 2
    assert _top(fuse({"dense": dense, "lexical": lexical}, THREE_LEGS, "en", lexical_coverage=0.2, short=True)) == 1


def test_a_short_chinese_query_can_have_an_english_share_of_its_own():
    """`short_english_weight_zh` (measured by bench/short_zh.py, not shipped): None keeps the Chinese share."""
    assert THREE_LEGS.short_english_weight_zh is None
    assert THREE_LEGS.english_for("zh", short=True) == THREE_LEGS.english_for("zh") == THREE_LEGS.english_weight_zh
    own = replace(THREE_LEGS, english_weight_zh=0.0, short_english_weight_zh=0.7)
    assert own.english_for("zh", short=True) == 0.7 and own.english_for("zh") == 0.0
    assert own.takes_part("english", "zh", short=True) and not own.takes_part("english", "zh")
    dense, english = {1: 1.0, 2: 0.0}, {1: 0.0, 2: 1.0}
    assert fuse({"dense": dense, "english": english}, own, "zh", short=True)[2] == pytest.approx(0.7)
    assert fuse({"dense": dense, "english": english}, own, "zh") == {1: 1.0, 2: 0.0}
