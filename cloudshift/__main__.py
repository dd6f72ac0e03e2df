"""`python -m cloudshift` is the same as the `cloudshift` command."""

from cloudshift.cli import main

main()
