"""Stable idempotency keys, so a retried task re-sends under the same key and the gateway drops the repeat."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["INT32_MAX", "content_digest", "dedupe_key"]

INT32_MAX = 2_147_483_647


def content_digest(parts: Iterable[str]) -> str:
    """A short digest of what a request carries (recipients and text), to tell changed payloads apart."""
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def dedupe_key(*parts: object) -> int:
    """Map the identity of one request to an integer in ``1..2147483647``.

    BulkSMS takes ``stop_dup_id`` and ``deduplication-id`` in that range. The same parts always give
    the same key, on any machine and Python version (no ``hash()``, which is salted per process).
    """
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % INT32_MAX + 1
