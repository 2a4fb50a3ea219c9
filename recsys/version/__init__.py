"""Index versions: what a build writes and a replica reads.

The manifest, vectors, snapshot, neighbour lists and BM25 matches, published atomically and loaded
with checks."""
