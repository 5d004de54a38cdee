"""Reading an answer within limits: how long a call may take and how much it may read.

Sans-I/O: both transports feed the bytes they receive through :class:`BodyDecoder` and then
:class:`CappedBody` (a whole answer) or :class:`LineSplitter` (a streamed report), so a hostile
gateway costs a bounded amount of memory whatever it sends -- a 200 MB answer, a gzip bomb
(decompressed size is what counts), or a report line that never ends.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["AnswerLimits", "AnswerTooLarge", "BodyDecoder", "CappedBody", "LineSplitter", "UndecodableAnswer",
           "split_block"]

ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`BodyDecoder` undoes (and the only ones the transports ask for)."""

_PIECE = 65_536  # decompressed bytes produced per step, whatever the compression ratio


@dataclass(frozen=True)
class AnswerLimits:
    """How long a gateway call may take and how much of an answer it may read.

    :param deadline: seconds for a whole call -- connecting, sending, every byte of the answer,
        and any retries with their waits. A gateway that drips its answer a byte at a time gets
        a typed error when it passes, not a hung task.
    :param max_answer_bytes: the largest answer (after decompression) to a send, status or
        other small call.
    :param report_deadline: seconds for a whole streamed report (they can be large).
    :param max_line_bytes: the longest line (after decompression) of a streamed report.
    """

    deadline: float = 120.0
    max_answer_bytes: int = 4 * 1024 * 1024
    report_deadline: float = 1800.0
    max_line_bytes: int = 64 * 1024


class AnswerTooLarge(Exception):
    """The answer (or one of its lines) passed its cap; ``what`` says which cap."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class UndecodableAnswer(Exception):
    """The answer's ``Content-Encoding`` is unknown, or its compressed data is corrupt."""


class BodyDecoder:
    """Undo ``Content-Encoding`` (gzip/deflate) in pieces of at most 64 KiB, however well the data compresses."""

    def __init__(self, content_encoding: str | None) -> None:
        encoding = (content_encoding or "").strip().lower()
        if encoding in ("", "identity"):
            self._inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, detected
        else:
            raise UndecodableAnswer(f"an answer in an encoding this provider did not ask for ({encoding[:20]!r})")

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``chunk``."""
        if self._inflater is None:
            if chunk:
                yield chunk
            return
        data = chunk
        while data:
            try:
                piece = self._inflater.decompress(data, _PIECE)
            except zlib.error:
                raise UndecodableAnswer("a corrupt compressed answer") from None
            if piece:
                yield piece
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                return


class CappedBody:
    """Collects decoded pieces; raises :class:`AnswerTooLarge` as soon as they pass ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self.limit:
            raise AnswerTooLarge(f"an answer larger than {self.limit} bytes")
        self._parts.append(piece)

    def value(self) -> bytes:
        return b"".join(self._parts)


class LineSplitter:
    """Splits decoded pieces into blocks of whole lines (``\n`` or ``\r\n``), none longer than ``limit`` bytes.

    Whole blocks rather than single lines: a report of a million rows is split and decoded a
    piece at a time in C, not a line at a time in Python.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pending = b""

    def feed(self, piece: bytes) -> bytes:
        """The complete lines ``piece`` finishes, as one block ending in ``\n`` (``b""`` if none)."""
        data = self._pending + piece
        cut = data.rfind(b"\n") + 1
        block, self._pending = data[:cut], data[cut:]
        if len(self._pending) > self.limit or (
                len(block) > self.limit and max(map(len, block.split(b"\n"))) > self.limit):
            raise AnswerTooLarge(f"a report line longer than {self.limit} bytes")
        return block

    def finish(self) -> bytes:
        """The last line, when the answer does not end with a line break (``b""`` otherwise)."""
        last, self._pending = self._pending, b""
        return last


def split_block(block: bytes, charset: str) -> list[str]:
    """The lines of a :class:`LineSplitter` block (or last line), decoded, line ends dropped."""
    text = block.decode(charset, errors="replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if "\r" in text:
        lines = [line.removesuffix("\r") for line in lines]
    return lines
