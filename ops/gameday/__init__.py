"""A game day: the DR budget measured in the user's own account, on a stack made for it.

    sdr gameday run --base dr --domain gameday.example.org --yes [--max-usd 5] [--keep]

One run (ops/gameday/run.py), each step bounded in time:

estimate  the ephemeral stack's config (ephemeral.py) planned offline: its standing cost per
          hour, the load's cost and the DR budget the plan computes; refused above --max-usd
create    a new stack `gameday-<UTC time>` through Pulumi's Automation API (automation.py),
          marked as the game day's own (a stack tag and a config key only it writes)
up        `pulumi up`; then every region's /health answers 200
measure   (measure.py) a scripted load through the generated client from every region's view,
          the replication lag between regions, the home region's API answering 429 to all but
          /health (a grey failure: the failover client's figures), the home region drained:
          health-check detection, DNS failover, automatic write failover and what the
          failover client saw, optionally DynamoDB replication paused with AWS FIS, every
          acknowledged write read back from every region (the RPO), a table restore's time
destroy   always, also after a failure or Ctrl-C (unless --keep); then the stack is removed

The report (report.py) sets each measured figure beside the budget the plan computed.
"""
