"""The request/answer pair that protocol modules build and parse; transports carry them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["BasicAuth", "HttpRequest", "HttpResponse"]


@dataclass(frozen=True)
class BasicAuth:
    """HTTP Basic credentials; ``repr`` never shows the password."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class HttpRequest:
    """A request a protocol wants sent. Credentials go in ``form``/``auth``, never in ``path`` or ``query``.

    :param sends_message: True when a success texts someone; such a request is re-sent after an
        ambiguous failure only when ``dedupe_key`` makes the gateway ignore the repeat.
    :param charset: how form values are encoded (BulkSMS EAPI wants ISO-8859-1).
    """

    method: Literal["GET", "POST"]
    path: str
    form: Sequence[tuple[str, str]] | None = field(default=None, repr=False)
    json: Any = field(default=None, repr=False)
    content: bytes | None = field(default=None, repr=False)  # a raw body (XML APIs); set Content-Type in headers
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: BasicAuth | None = field(default=None, repr=False)
    charset: str = "utf-8"
    sends_message: bool = False
    dedupe_key: int | None = None
    recipients: Sequence[str] = field(default=(), repr=False)  # who is in doubt if the answer is lost

    @property
    def replay_safe(self) -> bool:
        """May this request be sent again after an ambiguous failure?"""
        return not self.sends_message or self.dedupe_key is not None


@dataclass(frozen=True)
class HttpResponse:
    """An answer, as bytes; protocols decode it."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def text(self, charset: str = "utf-8") -> str:
        return self.body.decode(charset, errors="replace")
