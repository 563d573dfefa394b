"""What an operator runs: the offline plan and its diff, costs, preflight, stack-file edits, the
drill (drain, promote, restore tests) and the Lambda layer build. Never imports verify/."""
