"""The `recsys` command line: the top layer, above the service and the build."""
