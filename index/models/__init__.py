"""Models: our sentence-transformers USE module, the numpy query encoders (USE, MiniLM), the embedding cache."""
