"""The catalog: what the newsroom has published (articles, status, pins, blocks, the embedding
cache, the generation) and how it changes."""
