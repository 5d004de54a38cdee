"""Skycore MMS content: the slide and media limits, checked before sending, and the slide XML.

Limits (``reference/gateways.md`` 4.6, Skycore 1.3 ``saveMMS`` "special considerations"):

* 1 to 8 slides, each with something on it (a media file or text);
* at most one file of each kind per slide; no video with an image or audio on the same slide
  (a video slide carries text only);
* slide text at most 500 characters; duration 1 to 60 seconds (default 5 on the gateway);
* media given as full ``http(s)`` URLs (the gateway fetches them);
* a NAME and a SUBJECT (E301, E303); fallback SMS text, when given, not blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from lxml import etree

from airflow_provider_sms.core.mms import MediaKind, MmsContent, Slide
from airflow_provider_sms.core.text import control_chars
from airflow_provider_sms.exceptions import Problem
from airflow_provider_sms.gateways.xml import element

__all__ = ["MAX_SLIDES", "MAX_SLIDE_SECONDS", "MAX_SLIDE_TEXT", "content_problems", "slide_elements", "xml_problem"]

MAX_SLIDES = 8
MAX_SLIDE_TEXT = 500
MAX_SLIDE_SECONDS = 60
MAX_NAME = 100
"""[infer] No documented limit on NAME/SUBJECT; 100 characters keeps a mistake (a whole text) out."""

_NON_CHARACTERS = {"\ufffe", "\uffff"}


def xml_problem(field: str, value: str | None, index: int | None = None) -> Problem | None:
    """A problem when ``value`` holds a control character (refused on every gateway: DEL and C1
    included, which XML could carry) or a character XML 1.0 cannot carry at all."""
    if value is None:
        return None
    controls = control_chars(value)
    if controls:
        shown = ", ".join(f"U+{ord(c):04X}" for c in controls)
        return Problem(field, f"holds a control character XML cannot carry or the provider refuses: {shown}",
                       None, index)
    if _NON_CHARACTERS.intersection(value):
        return Problem(field, "holds a character XML cannot carry (U+FFFE/U+FFFF)", None, index)
    return None


def _url_problem(field: str, url: str, index: int) -> Problem | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return Problem(field, "must be a full http(s) URL of the file", url[:60], index)
    return xml_problem(field, url, index)


def _slide_problems(slide: Slide, index: int) -> list[Problem]:
    problems: list[Problem] = []
    if slide.empty:
        problems.append(Problem("slides", "a slide needs a media file or text", None, index))
    kinds = set(slide.media)
    if MediaKind.VIDEO in kinds and kinds & {MediaKind.IMAGE, MediaKind.AUDIO}:
        problems.append(Problem("slides", "a video slide cannot also hold an image or audio", None, index))
    for kind, url in slide.media.items():
        found = _url_problem(f"slides.{kind.value}", url, index)
        if found:
            problems.append(found)
    if slide.text is not None:
        if len(slide.text) > MAX_SLIDE_TEXT:
            problems.append(Problem("slides.text", f"at most {MAX_SLIDE_TEXT} characters, got {len(slide.text)}",
                                    None, index))
        found = xml_problem("slides.text", slide.text, index)
        if found:
            problems.append(found)
    if slide.duration is not None and not 1 <= slide.duration <= MAX_SLIDE_SECONDS:
        problems.append(Problem("slides.duration", f"must be 1..{MAX_SLIDE_SECONDS} seconds", str(slide.duration),
                                index))
    return problems


def content_problems(content: MmsContent) -> list[Problem]:
    """Everything wrong with ``content`` for ``saveMMS``/``sendMMS`` (empty when it can be sent)."""
    problems: list[Problem] = []
    for name, value in (("name", content.name), ("subject", content.subject)):
        if not value or not value.strip():
            problems.append(Problem(name, "required by Skycore"))
        elif len(value) > MAX_NAME:
            problems.append(Problem(name, f"at most {MAX_NAME} characters, got {len(value)}"))
        else:
            found = xml_problem(name, value)
            if found:
                problems.append(found)
    if content.fallback_text is not None:
        if not content.fallback_text.strip():
            problems.append(Problem("fallback_text", "must not be blank"))
        found = xml_problem("fallback_text", content.fallback_text)
        if found:
            problems.append(found)
    slides = list(content.slides)
    if not slides:
        problems.append(Problem("slides", "at least one slide is required"))
    elif len(slides) > MAX_SLIDES:
        problems.append(Problem("slides", f"at most {MAX_SLIDES} slides, got {len(slides)}"))
    for index, slide in enumerate(slides):
        problems.extend(_slide_problems(slide, index))
    return problems


def slide_elements(slides: Sequence[Slide]) -> list[etree._Element]:
    """``<SLIDE>`` elements: each media file as ``<IMAGE><URL>..</URL></IMAGE>``, then TEXT and DURATION."""
    built: list[etree._Element] = []
    for slide in slides:
        node = element("SLIDE")
        for kind, url in slide.media.items():
            media = etree.SubElement(node, kind.value.upper())
            media.append(element("URL", url))
        if slide.text is not None:
            node.append(element("TEXT", slide.text))
        if slide.duration is not None:
            node.append(element("DURATION", str(slide.duration)))
        built.append(node)
    return built
