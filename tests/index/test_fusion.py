"""Score fusion: a strong leg keeps its margin; untrusted or empty lexical legs step aside."""

from search.engine import fuse


def test_convex_combination_of_normalised_scores():
    dense = {1: 0.9, 2: 0.5, 3: 0.1}
    lexical = {1: 0.0, 2: 10.0, 3: 5.0}
    out = fuse(dense, lexical, dense_weight=0.6)
    assert out[1] == 0.6 and out[2] == 0.6 * 0.5 + 0.4 and abs(out[3] - 0.2) < 1e-9


def test_no_lexical_match_means_dense_alone():
    dense = {1: 0.9, 2: 0.5}
    assert fuse(dense, {1: 0.0, 2: 0.0}, 0.6) == {1: 1.0, 2: 0.0}


def test_low_coverage_hands_the_ranking_to_dense():
    dense = {1: 0.9, 2: 0.8}  # dense prefers 1
    lexical = {1: 0.0, 2: 9.0}  # lexical (stray abbreviation matches) prefers 2
    trusted = fuse(dense, lexical, 0.4, lexical_trust=1.0)
    untrusted = fuse(dense, lexical, 0.4, lexical_trust=0.05)
    assert max(trusted, key=trusted.get) == 2
    assert max(untrusted, key=untrusted.get) == 1


def test_confidence_favours_the_decisive_leg():
    dense = {1: 0.50, 2: 0.49, 3: 0.10}  # dense barely separates 1 from 2
    lexical = {1: 1.0, 2: 20.0, 3: 0.0}  # lexical is sure about 2
    plain = fuse(dense, lexical, 0.7)
    confident = fuse(dense, lexical, 0.7, confidence=1.0)
    assert confident[2] - confident[1] > plain[2] - plain[1]
