"""Stable idempotency keys, so a retried task re-sends under the same key and the gateway drops the repeat.

Keys and chunks must not depend on the order the recipients arrive in (a query without ORDER BY
returns them in another order on the retry): :func:`canonical_order` sorts them first, so the same
set of recipients always gives the same chunks, and :func:`chunk_key` names a chunk by what it
carries, never by its position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import islice
from operator import le, lt

from airflow_provider_sms.core.e164_digits import E164Digits
from airflow_provider_sms.core.recipient_set import CanonicalRecipients

__all__ = ["INT32_MAX", "CanonicalList", "canonical_order", "chunk_key", "content_digest", "dedupe_key",
           "is_canonical", "strictly_increasing"]

INT32_MAX = 2_147_483_647


def content_digest(parts: Iterable[str]) -> str:
    """A short digest of what a request carries (recipients and text), to tell changed payloads apart."""
    # Each part followed by a 0x1f byte, hashed in one update (a chunk has thousands of parts);
    # UTF-8 encodes a concatenation as the concatenation of the encodings, so the digest is
    # that of one update per part and separator.
    parts = list(parts)
    data = ("\x1f".join(parts) + "\x1f").encode("utf-8") if parts else b""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def dedupe_key(*parts: object) -> int:
    """Map the identity of one request to an integer in ``1..2147483647``.

    BulkSMS takes ``stop_dup_id`` and ``deduplication-id`` in that range. The same parts always give
    the same key, on any machine and Python version (no ``hash()``, which is salted per process).
    """
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % INT32_MAX + 1


class CanonicalList(list[str]):
    """A list :func:`canonical_order` made: known to be in canonical order, so not checked again
    (a send passes it through several steps; each check was a pass over 100,000 strings). Never
    changed after it is made."""

    __slots__ = ()


def canonical_order(recipients: Iterable[str]) -> Sequence[str]:
    """The recipients once each, sorted: the same set in any order gives the same list.

    Numbers are international digits of up to 15 characters, so sorting by (length, text) is
    numeric order; group names sort after the numbers of their length, which is as stable.
    A :class:`~airflow_provider_sms.core.recipient_set.CanonicalRecipients` or
    :class:`~airflow_provider_sms.core.e164_digits.E164Digits` is in that order already and is
    returned as it is (a big send's forms that make strings a chunk at a time).
    """
    if isinstance(recipients, CanonicalRecipients | CanonicalList | E164Digits):
        return recipients
    if isinstance(recipients, list) and is_canonical(recipients):  # e.g. numbers from an ORDER BY query
        return CanonicalList(recipients)
    # Two stable sorts instead of one keyed by (len, text): no key tuple per recipient, which at a
    # million recipients was 60 MB more at the peak of a send.
    ordered = CanonicalList(set(recipients))
    ordered.sort()
    ordered.sort(key=len)
    return ordered


def is_canonical(recipients: Sequence[str]) -> bool:
    """True when ``recipients`` is already what :func:`canonical_order` returns for it.

    Checked in C-speed passes, and only for the common case where the text order is the canonical
    order too (every recipient as long as the one before it or longer, and greater as text); a
    list that is canonical in another way (numbers of several lengths) answers False, and the
    caller sorts it, as it would anyway.
    """
    if isinstance(recipients, CanonicalRecipients | CanonicalList | E164Digits):
        return True
    if not strictly_increasing(recipients):
        return False
    lengths = list(map(len, recipients))
    return not lengths or lengths.count(lengths[0]) == len(lengths) \
        or all(map(le, lengths, islice(lengths, 1, None)))


def chunk_key(recipients: Sequence[str], content: str, *, canonical: bool = False) -> str:
    """The name of one chunk: a digest of its recipients (in canonical order) and of the content digest.

    :param canonical: the caller cut ``recipients`` from a list in canonical order (so they are in
        it): they are not checked again. The name is the same either way.
    """
    ordered = recipients if canonical or is_canonical(recipients) else canonical_order(recipients)
    return content_digest([*ordered, "\x1e", content])


def strictly_increasing(texts: Sequence[str]) -> bool:
    """Whether each of ``texts`` is greater than the one before it (so none is there twice), in one C pass."""
    return all(map(lt, texts, islice(texts, 1, None)))
