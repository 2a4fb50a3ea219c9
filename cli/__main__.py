"""`python -m cli`: the same as the `recsys` command."""

from cli.app import main

main()
