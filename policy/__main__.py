"""The Pulumi policy pack: `pulumi preview --policy-pack policy` (rules: policy/rules.py)."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The policy host runs this file directly: make `policy` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.pack import policies

PolicyPack(name="serverless-dr", enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
