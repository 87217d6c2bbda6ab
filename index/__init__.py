"""Turning records into a searchable index: chunks, tokens, vectors, FAISS, SQLite, generations.

`index` imports `corpus` for `Record` only, and never imports `search`.
"""
