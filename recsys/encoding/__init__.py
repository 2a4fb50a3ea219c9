"""Turning text into vectors: the text recipe, the Encoder protocol, the encoders and their export."""
