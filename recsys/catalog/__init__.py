"""The catalog: what the newsroom has published, and how it changes.

Articles, their status, pins, blocks, the embedding cache, the generation."""
