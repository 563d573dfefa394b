"""`python -m ops`: the `sdr` command without its console script."""

from ops.cli import main

main()
