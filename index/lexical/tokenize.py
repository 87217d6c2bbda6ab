"""Tokenizer for BM25, used on BOTH sides: indexing documents and parsing queries.

One function, `tokenize(text)`, handles English, Chinese and the mix of the two that
Chinese oncology abstracts are made of ("CAR-T细胞治疗复发难治性B细胞淋巴瘤").

Pipeline
--------
1. NFKC-normalise (full-width ＣＤ１９ → CD19), unify hyphen/dash variants, spell out Greek
   letters (α → alpha, so "TNF-α" and "TNF-alpha" meet).
2. If the text contains CJK ideographs, convert Traditional → Simplified (OpenCC ``t2s``).
3. Split into CJK runs and non-CJK runs. Only CJK runs go to jieba: once a user dictionary is
   loaded jieba splits Latin/digit sequences such as "PD-L1" or "4-1BB" unpredictably
   (jieba issue #959). Non-CJK runs go through the English path.
4. English path: lower-case, words of letters/digits, hyphenated compounds emitted as the
   joined form plus their parts ("PD-L1" → pdl1, pd, l1), Snowball stemming, stop words.
   A short capitalised word followed by a short alnum part containing a digit (or a single
   capital) is also joined ("PD L1" → + pdl1, "CAR T" → + cart), so the queries "PD-L1",
   "PD L1" and "PDL1" all match documents with any of the three forms.
5. Chinese path: jieba precise mode (HMM on) with the project's oncology user dictionary,
   Chinese stop words and punctuation dropped.

Precise-mode words rather than character bigrams: the user dictionary keeps drug names and
therapy terms whole, and a term's tokens are the same in a query and in a document because
the same function runs on both. Long words also emit their dictionary sub-words (search-mode
style) so a shorter query term still matches. Bigrams would add recall on unseen compounds at
a large cost in index size and precision; revisit once there is a Chinese-document relevance
set (bench/pubmedqa-zh has Chinese queries over English abstracts, so cannot decide it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path

import Stemmer

from corpus.text import CJK, CJK_RUNS, to_simplified

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
USERDICT_PATH = DATA_DIR / "jieba_userdict.txt"

# ---------------------------------------------------------------------------------------------
# Normalisation

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
# Upper-case Greek maps to the same names after lower-casing; do it in one translate table.
_TRANSLATE = {ord(k): v for k, v in _GREEK.items()}
_TRANSLATE.update({ord(k.upper()): v for k, v in _GREEK.items() if k != "ς"})
# Hyphen, non-breaking hyphen, figure dash, en dash, minus sign, small/full-width hyphen-minus.
for _dash in "\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d":
    _TRANSLATE[ord(_dash)] = "-"


def normalise(text: str) -> str:
    """NFKC, one hyphen for all dash variants, Greek letters spelled out: where both token paths start."""
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATE)


# ---------------------------------------------------------------------------------------------
# English

# Snowball's English stop list (snowballstem.org/algorithms/english/stop.txt), minus "i":
# in abstracts "I" is a Roman numeral ("phase I", "type I") far more often than a pronoun.
# Contractions are left out: the word regex splits them and the fragments are caught below.
EN_STOPWORDS = frozenset(
    """
    me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing would should could ought a an the and but if or because as until while of at by for
    with about against between into through during before after above below to from up down
    in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very
    s don can will just shall may might must also whether
    """.split()
)

# British spellings mapped to American before stemming, so "tumour" finds "tumor".
_SPELLING = {
    "tumour": "tumor", "tumours": "tumors", "tumoural": "tumoral", "leukaemia": "leukemia",
    "leukaemias": "leukemias", "leukaemic": "leukemic", "oesophageal": "esophageal",
    "oesophagus": "esophagus", "oesophagectomy": "esophagectomy", "oestrogen": "estrogen",
    "haematological": "hematological", "haematologic": "hematologic", "haematopoietic": "hematopoietic",
    "haemorrhage": "hemorrhage", "haemoglobin": "hemoglobin", "anaemia": "anemia",
    "paediatric": "pediatric", "paediatrics": "pediatrics", "randomised": "randomized",
    "randomisation": "randomization", "characterised": "characterized", "immunised": "immunized",
    "hypogammaglobulinaemia": "hypogammaglobulinemia", "hypoxaemia": "hypoxemia",
    "diarrhoea": "diarrhea", "oedema": "edema", "gynaecological": "gynecological",
    "favourable": "favorable", "unfavourable": "unfavorable", "behaviour": "behavior",
    "centre": "center", "centres": "centers", "labelled": "labeled", "signalling": "signaling",
    "tumourigenesis": "tumorigenesis", "haemophagocytic": "hemophagocytic", "anaesthesia": "anesthesia",
}  # fmt: skip
_stemmer = Stemmer.Stemmer("english")
# word → stemmed token, or "" for a stop word. Grows to the vocabulary size (~1e5 words).
_STEM: dict[str, str] = {}

_WORD = r"[^\W_]+"  # letters and digits of any script (CJK never reaches this path)
COMPOUND = re.compile(rf"{_WORD}(?:-{_WORD})*")  # a word or hyphenated compound ("pd-l1"), on lower-cased text
# "PD L1", "IL 6", "CTLA 4", "HER 2", "CAR T": a short letters-only word, one space, then a
# short part with a digit or a single capital. Matched on the original-case text.
_SPACED = re.compile(r"(?<![\w-])([A-Za-z]{1,5}) ([A-Za-z]{0,2}\d{1,2}[A-Za-z]?|[A-Z])(?![\w-])")
_MAX_PARTS = 6


def stem(word: str) -> str:
    """The token of one lower-cased word: British spelling to American, Snowball stem; "" for a stop word."""
    tok = _STEM.get(word)
    if tok is None:
        if word in EN_STOPWORDS:
            tok = ""
        elif word.isalpha():
            tok = _stemmer.stemWord(_SPELLING.get(word, word))
        else:
            tok = word  # alnum codes (cd19, l1, 41bb) are not English words: keep as is
        _STEM[word] = tok
    return tok


def _english(text: str, out: list[str]) -> None:
    """Append the tokens of a non-CJK run (already normalised) to `out`."""
    stem_get = _STEM.get
    for comp in COMPOUND.findall(text.lower()):
        if "-" not in comp:
            tok = stem_get(comp)
            if tok is None:
                tok = stem(comp)
            if tok:
                out.append(tok)
            continue
        parts = comp.split("-")[:_MAX_PARTS]
        out.append(stem("".join(parts)))  # joined form is never a stop word: keep always
        for part in parts:
            tok = stem(part)
            if tok:
                out.append(tok)
        n = len(parts)
        if n >= 3:  # "anti-PD-L1" → also "antipd", "pdl1": inner compounds findable on their own
            for i in range(n):
                for j in range(i + 2, n + 1 if i else n):
                    out.append(stem("".join(parts[i:j])))
    if " " in text:
        for a, b in _SPACED.findall(text):
            la = a.lower()
            if la in EN_STOPWORDS:
                continue
            if b.isalpha():  # single capital: "CAR T", "NK T" — only after a capitalised word
                if not a.isupper():
                    continue
            elif not a.isupper() and len(a) > 4:
                continue
            out.append(la + b.lower())


# ---------------------------------------------------------------------------------------------
# Chinese

ZH_STOPWORDS = frozenset(
    """
    的 了 和 与 及 以及 或 或者 在 是 对 对于 为 以 于 中 等 其 之 而 并 并且 被 将 从 由 这 该 此
    这些 那 那些 个 有 也 都 就 但 但是 所 因 因为 如 如果 若 则 把 向 给 着 过 还 又 即 亦 乃
    且 可 已 已经 我们 我 你 他 她 它 本 各 每 某 其中 之一 一种 一个 通过 进行 使用 采用 研究 分析
    是否 吗 呢 吧 啊 么 什么 哪些 哪个 如何 怎样 怎么 能否 是不是 有没有 有无 会 能 可以 可能
    """.split()
)

_jieba = None
_jieba_lock = threading.Lock()
_use_disk = False
JIEBA_TABLE_FORMAT = 1  # bump when what goes into the disk dictionary changes


def use_disk_dictionary(on: bool = True) -> None:
    """Query-path mode: the jieba tokenizer created from now on looks words up in a disk table.

    Loading jieba's prefix dictionary (a ``marshal.load`` of ~600k entries) takes seconds and a
    query looks up a few dozen substrings of it. In this mode the dictionary is a read-only
    SQLite table (index/storage/disk_table.py) built once from the fully loaded in-memory dictionary, so
    the segmentation is identical. The process that builds it keeps the in-memory tokenizer. Any
    failure falls back to the in-memory tokenizer. Indexing stays in the default (in-memory) mode:
    millions of look-ups are faster in a dict. A tokenizer already created is kept as it is.
    """
    global _use_disk
    _use_disk = on


def _jieba_tokenizer():
    """Private jieba.Tokenizer with the oncology user dictionary, created on first use."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                tk = _disk_tokenizer() if _use_disk else None
                if tk is None:
                    tk = new_jieba_tokenizer()
                    if _use_disk:
                        _write_disk_dictionary(tk)  # for the next process
                _jieba = tk
    return _jieba


def _quiet_jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba


def _bare_tokenizer():
    """A new jieba.Tokenizer, jieba's logging quietened, no dictionary loaded yet."""
    tk = _quiet_jieba().Tokenizer()
    tk.tmp_dir = tempfile.gettempdir()  # where jieba caches its parsed prefix dictionary
    return tk


def new_jieba_tokenizer(user_dictionary: bool = True):
    """A new jieba.Tokenizer with jieba's whole prefix dictionary in memory and, unless
    `user_dictionary` is False, the oncology user dictionary (USERDICT_PATH).

    The one place jieba is set up: the shared tokenizer (`jieba_tokenizer`) is made here, and so is
    the plain one `index.lexical.glossary.build_userdict` tunes the user dictionary's frequencies against.
    """
    tk = _bare_tokenizer()
    tk.initialize()
    if user_dictionary and USERDICT_PATH.exists():
        tk.load_userdict(str(USERDICT_PATH))
    return tk


def _jieba_table_key() -> list:
    """What the prefix dictionary's content depends on: jieba's version and main dictionary, our user dictionary."""
    import jieba

    main = os.path.join(os.path.dirname(jieba.__file__), jieba.DEFAULT_DICT_NAME)
    st = os.stat(main)
    user = hashlib.sha1(USERDICT_PATH.read_bytes()).hexdigest() if USERDICT_PATH.exists() else None
    return [JIEBA_TABLE_FORMAT, jieba.__version__, st.st_size, st.st_mtime_ns, user]


def _force_split_words() -> list[str]:
    """User-dictionary words given frequency 0: `add_word` registers them in jieba's HMM module."""
    import jieba

    if not USERDICT_PATH.exists():
        return []
    words = []
    for raw in USERDICT_PATH.read_bytes().split(b"\n"):  # line by line as load_userdict reads it
        line = raw.strip().decode("utf-8").lstrip("\ufeff")
        if line:
            word, freq, _tag = jieba.re_userdict.match(line).groups()
            if freq is not None and int(freq) == 0:
                words.append(word)
    return words


def _write_disk_dictionary(tk) -> bool:
    """Store `tk`'s prefix dictionary (an in-memory tokenizer, user dictionary loaded) as the disk table."""
    from index.storage.disk_table import build_table

    try:
        meta = {"total": tk.total, "force_split": _force_split_words()}
        return build_table("jieba", _jieba_table_key(), tk.FREQ.items(), meta) is not None
    except Exception:  # noqa: BLE001 - no table only costs speed
        return False


def _disk_tokenizer(build_from=None):
    """A new jieba.Tokenizer whose prefix dictionary is the disk table, or None if there is none.

    With `build_from` (an in-memory tokenizer) a missing table is written from it first.
    """
    from index.storage.disk_table import open_table

    try:
        key = _jieba_table_key()
        table = open_table("jieba", key)
        if table is None and build_from is not None and _write_disk_dictionary(build_from):
            table = open_table("jieba", key)
        if table is None:
            return None
        total = table.meta["total"]
        if not isinstance(total, int) or total <= 0:
            return None
        jieba = _quiet_jieba()
        for word in table.meta.get("force_split", []):
            jieba.finalseg.add_force_split(word)  # what load_userdict does for a frequency-0 word
        tk = _bare_tokenizer()
        tk.FREQ = table  # get_DAG, calc and __cut_DAG only use `in`, `[]` and `.get` on it
        tk.total = total
        tk.initialized = True  # never load the marshal cache
        return tk
    except Exception:  # noqa: BLE001 - fall back to the in-memory dictionary
        return None


def _chinese(run: str, out: list[str]) -> None:
    """Append the jieba words of a pure-CJK run to `out` (stop words dropped).

    A word of 4+ characters is followed by its 2-, 3- and 4-character substrings that are
    dictionary words (jieba's search-mode idea), so "免疫细胞治疗" is findable whole and by
    "细胞治疗", and "非小细胞肺癌" by "肺癌", on both the query and the document side.
    """
    tk = _jieba_tokenizer()
    freq = tk.FREQ
    for word in tk.lcut(run, HMM=True):
        if word in ZH_STOPWORDS:
            continue
        out.append(word)
        n = len(word)
        if n >= 4:
            for size in (2, 3, 4):
                for i in range(n - size + 1 if size < n else 0):
                    gram = word[i : i + size]
                    if freq.get(gram) and gram not in ZH_STOPWORDS:
                        out.append(gram)


# ---------------------------------------------------------------------------------------------
# Public API


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """BM25 tokens of `text`, identical for documents and queries.

    `lang` is accepted for symmetry with the rest of the index API but not needed: mixed text
    is split into CJK and non-CJK runs and each run takes its own path. ``lang="en"`` skips the
    CJK scan (a small speed-up for known-English text).
    """
    if not text:
        return []
    text = normalise(text)
    out: list[str] = []
    if lang == "en" or not CJK.search(text):
        _english(text, out)
        return out
    text = to_simplified(text)
    for i, run in enumerate(CJK_RUNS.split(text)):
        if not run:
            continue
        if i % 2:  # odd pieces are the captured CJK runs
            _chinese(run, out)
        else:
            _english(run, out)
    return out


def jieba_tokenizer():
    """The configured jieba tokenizer (raw segmentation for tools and tests)."""
    return _jieba_tokenizer()
