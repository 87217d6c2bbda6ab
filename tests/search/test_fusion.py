"""Score fusion: a strong leg keeps its margin; untrusted or empty lexical legs step aside."""

import pytest

from search.fusion import THREE_LEGS, FusionWeights, fuse


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
