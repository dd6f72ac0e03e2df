"""`python -m codemod` is the same as the `cloudshift` command."""

from codemod.cli import main

main()
