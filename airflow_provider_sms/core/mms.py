"""An MMS in gateway-neutral terms: slides of media and text, saved content, and a send of it.

Pure Python. Gateways that declare :attr:`~airflow_provider_sms.hooks.capabilities.Capability.MMS`
turn these into their own requests and check them against their own limits (slide count, text
length, media mixes) before anything is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = ["MediaKind", "MmsContent", "MmsMessage", "Slide", "slides_from_dicts"]


class MediaKind(enum.StrEnum):
    """What a media file on a slide is (one file of each kind per slide at most)."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    VCARD = "vcard"
    ICAL = "ical"
    PDF = "pdf"
    PASSBOOK = "passbook"


@dataclass(frozen=True)
class Slide:
    """One slide: media files by kind (URLs the gateway fetches), optional text and duration (s)."""

    media: Mapping[MediaKind, str] = field(default_factory=dict)
    text: str | None = None
    duration: int | None = None

    @property
    def empty(self) -> bool:
        return not self.media and not (self.text or "").strip()


@dataclass(frozen=True)
class MmsContent:
    """MMS content to save on the gateway (it answers with an id to send it by).

    :param name: the name the content is saved under.
    :param subject: the MMS subject line.
    :param fallback_text: SMS text sent to handsets that cannot receive MMS.
    """

    name: str
    slides: Sequence[Slide]
    subject: str | None = None
    fallback_text: str | None = None


@dataclass(frozen=True)
class MmsMessage:
    """A send of saved MMS content (``mms_id``) or of ``content`` directly.

    Recipients: ``numbers`` (international digits; gateways may take one per request), gateway-side
    ``groups`` (e.g. Skycore subscriber references), or a whole ``campaign``.

    :param custom_subject: replaces the saved subject for this send.
    :param custom_texts: replaces the text of slides, by 1-based slide number.
    :param merge_data: merge fields for personalised content (e.g. ``{"FIRST_NAME": "Ann"}``).
    :param campaign_ref: the gateway campaign the send is filed under (numbers and groups sends).
    """

    mms_id: str | None = None
    content: MmsContent | None = None
    numbers: Sequence[str] = ()
    groups: Sequence[str] = ()
    campaign: str | None = None
    sender: str | None = None
    fallback_text: str | None = None
    custom_subject: str | None = None
    custom_texts: Mapping[int, str] = field(default_factory=dict)
    merge_data: Mapping[str, str] = field(default_factory=dict)
    campaign_ref: str | None = None

    @property
    def recipients(self) -> list[str]:
        """Who this send names: numbers, groups, or ``campaign:<id>``."""
        return [*self.numbers, *self.groups, *([f"campaign:{self.campaign}"] if self.campaign else [])]


def slides_from_dicts(items: Sequence[Mapping[str, Any]], field_name: str = "slides") -> list[Slide]:
    """Slides from plain dicts, as DAG authors write them.

    ``{"image": "https://.../a.jpg", "audio": "https://.../a.mp3", "text": "Hi", "duration": 5}``:
    any :class:`MediaKind` name maps to a URL; ``text`` and ``duration`` are optional.

    :raises SmsValidationError: listing every unknown key, non-text URL or non-integer duration.
    """
    slides: list[Slide] = []
    problems: list[Problem] = []
    kinds = {k.value: k for k in MediaKind}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(Problem(field_name, "each slide must be a mapping", type(item).__name__, index))
            continue
        media: dict[MediaKind, str] = {}
        text: str | None = None
        duration: int | None = None
        for key, value in item.items():
            name = str(key).lower()
            if name == "text":
                text = None if value is None else str(value)
            elif name == "duration":
                try:
                    duration = None if value in (None, "") else int(value)
                except (TypeError, ValueError):
                    problems.append(Problem(f"{field_name}.duration", "must be whole seconds", str(value), index))
            elif name in kinds:
                if not isinstance(value, str) or not value.strip():
                    problems.append(Problem(f"{field_name}.{name}", "must be a URL", str(value), index))
                else:
                    media[kinds[name]] = value.strip()
            else:
                choices = ", ".join([*kinds, "text", "duration"])
                problems.append(Problem(field_name, f"unknown slide key; use {choices}", str(key), index))
        slides.append(Slide(media=media, text=text, duration=duration))
    if problems:
        raise SmsValidationError(problems)
    return slides
