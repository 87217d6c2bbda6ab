"""The ranking legs: each reads the query its own way and scores records on its own evidence.

- `dense`: USE multilingual vectors of whole abstracts and of sentences (Chinese and English in one space);
- `lexical`: BM25 over jieba / stemmed-English tokens, with glossary and CC-CEDICT expansion;
- `english`: all-MiniLM-L6-v2 over each record's English passages (indexes built with it).

A leg's name is also its `--mode` and its key in `--explain`. A new signal is a new module here
with a `Leg` subclass, registered in `search.engine.Searcher`'s leg list.
"""

from search.legs.base import Leg, LegResult

__all__ = ["Leg", "LegResult"]
