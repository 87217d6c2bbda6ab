"""Exit codes, for cron and scripts (documented in README "Exit codes")."""

OK = 0  # everything done
FAILED = 1  # nothing usable done: no index, damaged index, unreadable input only, a bug
USAGE = 2  # wrong command line (Typer/Click's own code for usage errors)
SKIPPED = 3  # done, but some records or files were skipped (listed in the summary)
BUSY = 75  # EX_TEMPFAIL: another writer holds the index; try again later
