"""Index versions: what a build writes and a replica reads (manifest, vectors, snapshot, neighbour
lists, BM25 matches), published atomically and loaded with checks."""
