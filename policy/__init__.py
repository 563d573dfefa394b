"""Policy pack of serverless-dr: rules.py (the rules), engine.py (offline), __main__.py (the pack)."""
