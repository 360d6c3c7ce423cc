"""The `peftstudio` command line: a thin table from command names to library calls."""
