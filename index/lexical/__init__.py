"""Lexical analysis: jieba + user dictionary and the stemmed English tokenizer, the glossary, BM25."""
