"""Does a value look like a credential? Judged by the value, never by the name it is stored under.

Known credential formats (AWS access keys, private keys, common API tokens, JWTs), and random
strings: long runs of hex, or of letters, digits and symbols with the spread of characters a
generated secret has. Identifiers a stack is full of (ARNs, URLs, paths, host names, names with
dashes, UUIDs, JSON) are not secrets.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

KNOWN_FORMATS = (
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}"),  # Stripe
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # a JWT
)
_IDENTIFIER = re.compile(
    r"^(arn:|https?://|s3://|(/[A-Za-z0-9._{}-]+)+/?$|[a-z0-9-]+(\.[a-z0-9-]+)+$|\{|\[|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)"
)
_HEX = re.compile(r"^[0-9a-fA-F]{32,}$")
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_.~!@#$%^&*-]{20,}$")


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_like_secret(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 20 or any(c.isspace() for c in value.strip()):
        return isinstance(value, str) and any(f.search(value) for f in KNOWN_FORMATS)
    if any(f.search(value) for f in KNOWN_FORMATS):
        return True
    if _IDENTIFIER.match(value):
        return False
    if _HEX.match(value):
        return True
    if not _TOKEN.match(value):
        return False
    if _worded(value):
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    # A generated secret mixes character classes and rarely repeats one; names do neither.
    # Entropy is bounded by log2(length): a short generated secret cannot reach a long one's figure.
    return classes >= 3 and _entropy(value) >= min(4.2, math.log2(len(value)) - 0.7)


def _worded(value: str) -> bool:
    """Made of words, as names are: `idempotency-us-east-1-0a1b2c`, `ApiUsEast1Function7D3F`. A
    word keeps one case (`table`, `TABLE`, `Table`); random letters change case at random."""
    segments = re.split(r"[-_./:]", value)
    if sum(1 for s in segments if len(s) >= 4 and s.isalpha() and (s.islower() or s.isupper() or s.istitle())) >= 2:
        return True
    camel = re.findall(r"[A-Z][a-z]{3,}", value)
    return len(camel) >= 3 and sum(map(len, camel)) >= len(value) / 2


def secrets_in(value: Any, path: str = "") -> list[str]:
    """Paths of the secret-looking strings anywhere in `value` (nested dicts and lists)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in secrets_in(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in secrets_in(v, f"{path}[{i}]")]
    return [path or "(value)"] if looks_like_secret(value) else []
