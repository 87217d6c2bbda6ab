"""Answering questions against an index generation: legs, fusion, filters, output, evaluation, CLI."""
