"""What gets a vector: one document text per record language, and its sentences.

A whole-abstract vector gives the document-level score; sentence vectors give the snippet
(the best sentence) and a sentence-level score. Both are kept because each wins on different
corpora (an earlier session's grid, in no committed file: bench/NOTES.md): whole abstracts once
many distractors share the topic, sentences when an abstract is padded with generic methods text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from corpus.record import Record
from corpus.text import detect_lang, split_sentences

MAX_SENTENCES = 60  # a runaway "abstract" (a whole paper pasted in) must not flood the index


@dataclass(frozen=True)
class Chunk:
    kind: str  # "doc" or "sent"
    lang: str
    position: int  # 0: the title (or the whole doc); 1, 2, ...: abstract sentences
    text: str

    @property
    def key(self) -> str:
        """Embedding-cache key: the text alone decides the vector."""
        return text_hash(self.text)


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def doc_text(record: Record, lang: str) -> str:
    """The text one language's document vector embeds: title and abstract.

    A title-only record (a letter, an editorial, an export without its abstract) has little else to
    be found by, so its keywords of that language (MeSH headings, author keywords, 关键词) follow
    the title. Records with an abstract embed exactly title and abstract, as they always have.
    """
    text = record.text(lang)
    if record.has_abstract() or not text:
        return text
    keywords = [k for k in record.keywords if detect_lang(k) == lang]
    return f"{text}\n{'; '.join(keywords)}" if keywords else text


def chunk_record(record: Record) -> tuple[list[Chunk], list[Chunk]]:
    """(doc chunks, sentence chunks) for one record, languages in canonical order.

    A title is sentence 0 of its language, so a title-only record still owns a sentence and a
    document vector (its snippet is its title: the dense leg falls back to it when a record has
    no abstract sentence).
    """
    docs: list[Chunk] = []
    sents: list[Chunk] = []
    for lang in record.langs:
        text = doc_text(record, lang)
        if not text:
            continue
        docs.append(Chunk("doc", lang, 0, text))
        if record.title.get(lang):
            sents.append(Chunk("sent", lang, 0, record.title[lang]))
        for i, sentence in enumerate(split_sentences(record.abstract.get(lang, ""), lang)[:MAX_SENTENCES], 1):
            sents.append(Chunk("sent", lang, i, sentence))
    return docs, sents
