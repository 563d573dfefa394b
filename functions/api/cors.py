"""CORS for the answers a function builds without the router (the health function's, a path no
route can match): what the router's CORSConfig adds for the site's origin (api/app.py)."""

from __future__ import annotations

import os


def headers_for(event: dict) -> dict[str, str]:
    """The page calls from the site's origin (ALLOWED_ORIGIN); without these headers the browser
    hides the answer from it. Another origin gets none."""
    allowed = os.environ.get("ALLOWED_ORIGIN", "")
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    if not allowed or origin != allowed:
        return {}
    return {"Access-Control-Allow-Origin": allowed, "Vary": "Origin"}
