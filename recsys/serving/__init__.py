"""The request path: from an article (or draft) to its lists, in memory, with bounded work."""
