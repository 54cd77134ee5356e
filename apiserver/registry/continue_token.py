"""The continue token of a paged list: the revision of the first page and the
last key returned, so later pages read etcd at that revision (one snapshot)."""

from __future__ import annotations

import base64
import json

from pinnace.machinery import errors


def encode_continue(rv: int, key: str) -> str:
    raw = json.dumps({"v": 1, "rv": rv, "start": key}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_continue(token: str) -> tuple[int, str]:
    """(revision, last key) of a token; 400 Bad Request for one we did not write."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except Exception:
        raise errors.BadRequest("continue key is not valid: start a new list without it") from None
