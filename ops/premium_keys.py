"""`sdr premium rotate` and `sdr premium retire`: the signing key's rotation, with the wait that
keeps live cookies valid.

rotate  writes a new key name first in premiumSigningKeys (`[k<UTC time>, <current>]`) into the
        stack file. The next `pulumi up` generates that key, adds its public key to the key group
        and makes it the signing one (the secret changes with it); the old key stays in the group.
retire  drops the old name once no cookie it signed can still be alive: the home region's
        signing-key secret must have changed (the deploy that made the new key sign) at least
        premiumCookieSeconds (plus a clock margin) ago. Earlier it refuses (exit 3) and says when:
        dropping the old public key then would turn every live cookie it signed into a 403.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from ops.config_file import read_config, set_value, stack_file_path
from ops.errors import OperatorError, Refused
from ops.outputs import load_outputs

KEY = "premiumSigningKeys"
CLOCK_MARGIN_SECONDS = 60  # the secret's timestamp, CloudFront's clock and ours disagree a little


def _keys(stack: str, path: Path) -> tuple[tuple[str, ...], int]:
    if not path.is_file():
        raise OperatorError(f"no stack file {path.name} (pass --file)")
    paid = read_config(stack, path, real=False).paid_content
    if not paid.enabled:
        raise OperatorError(f"stack {stack} sells no premium media (paidContent is off): there is no key to rotate")
    return paid.signing_keys, paid.cookie_seconds


def rotate(stack: str, path: Path | None, now: datetime.datetime) -> list[str]:
    path = path or stack_file_path(stack)
    keys, cookie_seconds = _keys(stack, path)
    if len(keys) == 2:
        raise Refused(f"a rotation is under way ({keys[0]} signs, {keys[1]} is retiring): sdr premium retire first")
    new = now.astimezone(datetime.UTC).strftime("k%Y%m%d%H%M")
    if new == keys[0]:
        raise Refused(f"the signing key is already named {new}: rotate again in a minute")
    set_value(path, KEY, json.dumps([new, keys[0]]))
    return [
        f"{path.name}: {KEY} = [{new}, {keys[0]}]",
        f"next: pulumi up (generates {new} and signs with it; {keys[0]} stays trusted), then, "
        f"{cookie_seconds} s after that deploy, sdr premium retire --stack {stack}",
    ]


def retire(stack: str, path: Path | None, outputs_file: Path | None, session: Any, now: datetime.datetime) -> list[str]:
    path = path or stack_file_path(stack)
    keys, cookie_seconds = _keys(stack, path)
    if len(keys) != 2:
        raise Refused(f"no rotation under way: {keys[0]} is the only key")
    paid = load_outputs(stack, outputs_file).get("paidContent") or {}
    secrets = paid.get("signingKeySecrets") or {}
    home = paid.get("poolRegion")
    if home not in secrets:
        raise OperatorError(f"stack {stack}'s outputs lack paidContent's signing-key secrets: deploy it first (pulumi up)")
    described = session.client("secretsmanager", region_name=home).describe_secret(SecretId=secrets[home])
    changed = described.get("LastChangedDate") or described.get("CreatedDate")
    safe_after = changed + datetime.timedelta(seconds=cookie_seconds + CLOCK_MARGIN_SECONDS)
    if now < safe_after:
        raise Refused(
            f"the signing key changed at {changed:%Y-%m-%dT%H:%M:%SZ}: cookies signed by {keys[1]} may live until "
            f"{safe_after:%Y-%m-%dT%H:%M:%SZ}; retire it after that (now it would turn them into 403s), "
            f"and only once the deploy with {keys[0]} is done"
        )
    set_value(path, KEY, json.dumps([keys[0]]))
    return [f"{path.name}: {KEY} = [{keys[0]}]", f"next: pulumi up (removes {keys[1]} from the key group and destroys it)"]
