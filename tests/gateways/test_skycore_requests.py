"""Skycore request documents: every action's XML, hostile text round-trips, checks before sending."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MediaKind, MmsContent, MmsMessage, Slide, slides_from_dicts
from airflow_provider_sms.exceptions import SmsCapabilityError, SmsConfigurationError, SmsValidationError
from airflow_provider_sms.gateways.http import HttpRequest
from airflow_provider_sms.gateways.skycore import SkycoreApi

KEY = "k3y-Secret-123456"
A = "447700100001"


def _api(**kwargs: str) -> SkycoreApi:
    return SkycoreApi(KEY, short_code="60856", **kwargs)


def _doc(request: HttpRequest) -> etree._Element:
    assert request.method == "POST" and request.content is not None
    assert request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert request.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert not request.query and KEY not in request.path
    root = etree.fromstring(request.content)
    assert root.tag == "REQUEST"
    assert root.findtext("API_KEY") == KEY
    return root


def _fields(root: etree._Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in root if len(child) == 0}


def test_send_sms_document_in_the_documented_order() -> None:
    request = _api(operator_id="1470", campaign_ref="Campaign123").send_request(
        OutgoingMessage("Hello Jerry", numbers=[A], sender="Marc"))
    root = _doc(request)
    assert [c.tag for c in root] == ["ACTION", "API_KEY", "OPERATORID", "TO", "FROM", "FROM_MASK", "CAMPAIGNREF",
                                     "TEXT"]
    assert _fields(root) == {"ACTION": "sendSMS", "API_KEY": KEY, "OPERATORID": "1470", "TO": A, "FROM": "60856",
                             "FROM_MASK": "Marc", "CAMPAIGNREF": "Campaign123", "TEXT": "Hello Jerry"}
    assert request.sends_message and request.recipients == [A] and not request.replay_safe


def test_numeric_short_code_is_a_valid_sender_without_a_connection_code() -> None:
    root = _doc(SkycoreApi(KEY).send_request(OutgoingMessage("Hi", numbers=[A], sender="60856")))
    assert _fields(root)["FROM"] == "60856" and root.find("FROM_MASK") is None


def test_extras_override_campaign_and_operator_and_pass_other_elements() -> None:
    message = OutgoingMessage("Hi", numbers=[A], extras={"campaign_ref": "C9", "operator_id": "7", "custom": "x"})
    fields = _fields(_doc(_api(campaign_ref="C1").send_request(message)))
    assert (fields["CAMPAIGNREF"], fields["OPERATORID"], fields["CUSTOM"]) == ("C9", "7", "x")


@pytest.mark.parametrize("text", [
    "a < b && c > d", "quotes \" and ' apostrophes", "]]> cdata end", "emoji 😀🎉", "tab\tand\nnewline",
    "<TEXT>injected</TEXT><TO>449999</TO>", "&amp; already escaped",
])
def test_hostile_text_round_trips_and_stays_well_formed(text: str) -> None:
    root = _doc(_api().send_request(OutgoingMessage(text, numbers=[A], max_parts=2)))
    assert root.findtext("TEXT") == text
    assert [c.tag for c in root].count("TO") == 1


def test_control_characters_are_refused_before_sending() -> None:
    with pytest.raises(SmsValidationError, match="control character"):
        _api().send_request(OutgoingMessage("bell \x07", numbers=[A]))


@pytest.mark.parametrize(("message", "expected"), [
    (OutgoingMessage("Hi", numbers=[A, "447700100002"]), "exactly one recipient"),
    (OutgoingMessage("Hi", numbers=["+447700"]), "international digits"),
    (OutgoingMessage("x" * 161, numbers=[A]), "needs 2 GSM-7 parts"),
    (OutgoingMessage("Hi", numbers=[A], sender="TooLongSender1"), "at most 11"),
    (OutgoingMessage("Hi", numbers=[A], sender="Bad<Mask>"), "sender mask takes"),
    (OutgoingMessage("Hi", numbers=[A], max_parts=11), "max_parts"),
    (OutgoingMessage("Hi", numbers=[A], extras={"TO": "1"}), "extras"),
    (OutgoingMessage("Hi", groups=["ref-1"]), "needs a campaign"),
])
def test_bad_sends_name_the_input(message: OutgoingMessage, expected: str) -> None:
    with pytest.raises(SmsValidationError, match=expected):
        _api().send_request(message)


def test_alphanumeric_sender_needs_a_short_code() -> None:
    with pytest.raises(SmsValidationError, match="short_code"):
        SkycoreApi(KEY).check(OutgoingMessage("Hi", numbers=[A], sender="Shop"))


def test_schedules_and_test_mode_are_capability_errors() -> None:
    with pytest.raises(SmsCapabilityError, match="scheduled"):
        _api().check(OutgoingMessage("Hi", numbers=[A], send_at=dt.datetime.now(dt.UTC)))
    with pytest.raises(SmsCapabilityError, match="test_mode"):
        _api().check(OutgoingMessage("Hi", numbers=[A], test_mode="succeed"))


def test_empty_key_and_bad_settings_are_configuration_errors() -> None:
    with pytest.raises(SmsConfigurationError):
        SkycoreApi(" ")
    with pytest.raises(SmsConfigurationError, match="time zone"):
        SkycoreApi(KEY, time_zone="Mars/Olympus")
    with pytest.raises(SmsConfigurationError, match="statistics_action"):
        SkycoreApi(KEY, statistics_action="get stats")
    assert KEY not in repr(SkycoreApi(KEY))


def test_subscriber_ref_send() -> None:
    root = _doc(_api(campaign_ref="1116").send_request(OutgoingMessage("Hi all", groups=["ref-7"])))
    assert _fields(root) == {"ACTION": "sendMessageBySubscriberRef", "API_KEY": KEY, "SUBSCRIBERREF": "ref-7",
                             "CAMPAIGNREF": "1116", "FROM": "60856", "TEXT": "Hi all"}


SLIDES = [Slide({MediaKind.IMAGE: "https://example.com/1.jpg", MediaKind.AUDIO: "https://example.com/1.mp3"},
                "Here is some text", 5),
          Slide(text="Second & last <slide>"),
          Slide({MediaKind.VIDEO: "https://example.com/v.mp4"}, duration=60)]


def test_save_mms_document() -> None:
    content = MmsContent("fishtank", SLIDES, subject="The subject", fallback_text="See the fish")
    root = _doc(_api().save_mms_request(content))
    assert _fields(root) == {"ACTION": "saveMMS", "API_KEY": KEY, "NAME": "fishtank", "SUBJECT": "The subject",
                             "FALLBACKSMSTEXT": "See the fish"}
    slides = root.findall("SLIDE")
    assert [s.findtext("IMAGE/URL") for s in slides] == ["https://example.com/1.jpg", None, None]
    assert slides[0].findtext("AUDIO/URL") == "https://example.com/1.mp3"
    assert [s.findtext("TEXT") for s in slides] == ["Here is some text", "Second & last <slide>", None]
    assert [s.findtext("DURATION") for s in slides] == ["5", None, "60"]
    assert slides[2].findtext("VIDEO/URL") == "https://example.com/v.mp4"
    assert not _api().save_mms_request(content).sends_message


@pytest.mark.parametrize(("content", "expected"), [
    (MmsContent("n", [], subject="s"), "at least one slide"),
    (MmsContent("n", [Slide(text="x")] * 9, subject="s"), "at most 8 slides"),
    (MmsContent("n", [Slide()], subject="s"), "needs a media file or text"),
    (MmsContent("n", [Slide(text="x" * 501)], subject="s"), "at most 500"),
    (MmsContent("n", [Slide({MediaKind.VIDEO: "https://e/v", MediaKind.IMAGE: "https://e/i"})], subject="s"),
     "video slide"),
    (MmsContent("n", [Slide({MediaKind.IMAGE: "ftp://e/i.jpg"})], subject="s"), "full http"),
    (MmsContent("n", [Slide(text="x", duration=61)], subject="s"), "1..60"),
    (MmsContent("", [Slide(text="x")], subject="s"), "name"),
    (MmsContent("n", [Slide(text="x")]), "subject"),
    (MmsContent("n", [Slide(text="x")], subject="s", fallback_text=" "), "fallback_text"),
])
def test_slide_and_media_limits_are_checked_before_sending(content: MmsContent, expected: str) -> None:
    with pytest.raises(SmsValidationError, match=expected):
        _api().save_mms_request(content)


def test_slides_from_dicts_reads_what_dag_authors_write() -> None:
    slides = slides_from_dicts([{"image": "https://e/a.jpg", "text": "Hi", "duration": "7"}, {"TEXT": "Bye"}])
    assert slides[0] == Slide({MediaKind.IMAGE: "https://e/a.jpg"}, "Hi", 7)
    with pytest.raises(SmsValidationError, match="unknown slide key"):
        slides_from_dicts([{"picture": "https://e/a.jpg"}])


def test_send_saved_mms_with_custom_texts_subject_and_merge_data() -> None:
    message = MmsMessage(mms_id="35674", numbers=[A], sender="60856", campaign_ref="12333",
                         fallback_text="fallback", custom_subject="My Custom Subject",
                         custom_texts={2: "second", 1: "first"}, merge_data={"first_name": "John", "PET": "Dog"})
    root = _doc(_api().send_mms_request(message))
    assert _fields(root) == {"ACTION": "sendSavedMMS", "API_KEY": KEY, "MMSID": "35674", "TO": A, "FROM": "60856",
                             "CAMPAIGNREF": "12333", "FALLBACKSMSTEXT": "fallback",
                             "CUSTOMSUBJECT": "My Custom Subject"}
    assert [(c.findtext("VALUE"), c.findtext("SLIDE")) for c in root.findall("CUSTOMTEXT")] == [
        ("first", "1"), ("second", "2")]
    assert _fields(root.find("DATA")) == {"FIRST_NAME": "John", "PET": "Dog"}


def test_send_mms_campaign_and_subscriber_ref_documents() -> None:
    content = MmsContent("n", SLIDES[:1], subject="s")
    direct = _doc(_api().send_mms_request(MmsMessage(content=content, numbers=[A], fallback_text="fb")))
    assert direct.findtext("ACTION") == "sendMMS" and direct.findtext("FALLBACKSMSTEXT") == "fb"
    assert direct.findtext("TO") == A and len(direct.findall("SLIDE")) == 1
    campaign = _doc(_api().send_mms_request(MmsMessage(mms_id="9", campaign="332")))
    assert _fields(campaign) == {"ACTION": "sendSavedMMSCampaign", "API_KEY": KEY, "MMSID": "9", "TOCAMPAIGN": "332"}
    by_ref = _doc(_api(campaign_ref="1116").send_mms_request(MmsMessage(mms_id="9", groups=["r1"])))
    assert _fields(by_ref) == {"ACTION": "sendMessageBySubscriberRef", "API_KEY": KEY, "SUBSCRIBERREF": "r1",
                               "CAMPAIGNREF": "1116", "MMSID": "9"}


@pytest.mark.parametrize(("message", "expected"), [
    (MmsMessage(mms_id="1", numbers=[A, "447700100002"]), "exactly one recipient"),
    (MmsMessage(numbers=[A]), "either saved content"),
    (MmsMessage(mms_id="1", numbers=[A], custom_texts={9: "x"}), "1..8"),
    (MmsMessage(mms_id="1", numbers=[A], merge_data={"bad name": "x"}), "field names"),
    (MmsMessage(content=MmsContent("n", [Slide(text="x")], subject="s"), campaign="1"), "saved content"),
])
def test_bad_mms_sends_name_the_input(message: MmsMessage, expected: str) -> None:
    with pytest.raises(SmsValidationError, match=expected):
        _api().send_mms_request(message)


_CONTROLS = ["\x00", "\x1b", "\x7f", "\x85", "\x9f", "\ufffe"]  # NUL, ESC, DEL, C1 (XML could carry these two)


@pytest.mark.parametrize("ch", _CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["slide text", "subject", "fallback_text", "name"])
def test_control_characters_in_mms_content_are_refused(ch: str, where: str) -> None:
    texts = {"slide text": "x", "subject": "s", "fallback_text": "fb", "name": "n"} | {where: f"a{ch}b"}
    content = MmsContent(texts["name"], [Slide(text=texts["slide text"])], subject=texts["subject"],
                         fallback_text=texts["fallback_text"])
    with pytest.raises(SmsValidationError, match="XML cannot carry"):
        _api().save_mms_request(content)


@pytest.mark.parametrize("ch", _CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["custom_subject", "fallback_text", "custom_texts", "merge_data"])
def test_control_characters_in_an_mms_send_are_refused(ch: str, where: str) -> None:
    value = f"a{ch}b"
    message = MmsMessage(mms_id="1", numbers=[A], **{  # type: ignore[arg-type]
        "custom_subject": {"custom_subject": value}, "fallback_text": {"fallback_text": value},
        "custom_texts": {"custom_texts": {1: value}}, "merge_data": {"merge_data": {"NAME": value}}}[where])
    with pytest.raises(SmsValidationError, match="XML cannot carry"):
        _api().send_mms_request(message)


def test_subscribe_and_unsubscribe_documents() -> None:
    root = _doc(_api().subscribe_request(A, "1116", {"first_name": "John", "last_name": "Smith", "age": ""}))
    assert _fields(root) == {"ACTION": "subscribe", "API_KEY": KEY, "CAMPAIGNID": "1116", "MOBILE": A,
                             "NOTIFY": "no", "CTA": "no"}
    assert _fields(root.find("DATA")) == {"FIRST_NAME": "John", "LAST_NAME": "Smith"}
    assert _api().subscribe_request(A, "1116").replay_safe  # a silent re-subscribe changes nothing
    root = _doc(_api().unsubscribe_request(A, "1116", notify=True))
    assert _fields(root) == {"ACTION": "unsubscribe", "API_KEY": KEY, "CAMPAIGNID": "1116", "MOBILE": A,
                             "NOTIFY": "yes"}
    with pytest.raises(SmsValidationError, match="campaign"):
        _api().subscribe_request(A, "")


def test_statistics_create_user_and_mms_ids_documents() -> None:
    start = dt.datetime(2010, 10, 1, 16, tzinfo=dt.UTC)
    root = _doc(_api().statistics_request(start, start + dt.timedelta(days=31)))
    assert _fields(root) == {"ACTION": "getSendingStatistics", "API_KEY": KEY,
                             "START_DATE": "2010-10-01 12:00:00", "END_DATE": "2010-11-01 12:00:00"}
    assert _doc(SkycoreApi(KEY, statistics_action="getSendingStatus").statistics_request(
        start, start + dt.timedelta(hours=1))).findtext("ACTION") == "getSendingStatus"
    with pytest.raises(SmsValidationError, match="after start"):
        _api().statistics_request(start, start)
    with pytest.raises(SmsValidationError, match="timezone-aware"):
        _api().statistics_request(dt.datetime(2010, 1, 1), start)
    user = _api().create_user_request("john", "john_pass")
    assert _fields(_doc(user)) == {"ACTION": "createUser", "API_KEY": KEY, "NEWUSER": "john", "NEWPASS": "john_pass"}
    assert user.sends_message  # a lost answer may hide a created user: never replayed
    assert _fields(_doc(_api().mms_ids_request())) == {"ACTION": "getMmsIds", "API_KEY": KEY}
