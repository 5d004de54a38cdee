"""Tests for airflow_provider_sms.core.text: alphabet tables, unit counts, part counts, validation."""

from __future__ import annotations

import re

import pytest

from airflow_provider_sms.core.text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    TYPOGRAPHIC_TO_GSM,
    Encoding,
    TextInfo,
    analyse,
    check_text,
    gsm7_septets,
    is_gsm7,
    replace_typographic,
    ucs2_hex,
)
from airflow_provider_sms.exceptions import Problem, SmsValidationError

# 3GPP TS 23.038 section 6.2.1, typed independently of the module as Unicode code points in
# table order (0x00..0x7F). None marks 0x1B, the escape to the extension table.
SPEC_BASIC_CODEPOINTS: list[int | None] = [
    # 0x00
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
    # 0x10
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
    0x03A3, 0x0398, 0x039E, None, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
    # 0x20
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
    # 0x30
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
    # 0x40
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
    # 0x50
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
    # 0x60
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    # 0x70
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
]  # fmt: skip

# Section 6.2.1.1 extension table: form feed, ^ { } \ [ ~ ] | and the euro sign.
SPEC_EXTENSION_CODEPOINTS = [0x000C, 0x005E, 0x007B, 0x007D, 0x005C, 0x005B, 0x007E, 0x005D, 0x007C, 0x20AC]

SPEC_BASIC = [chr(cp) for cp in SPEC_BASIC_CODEPOINTS if cp is not None]
SPEC_EXTENSION = [chr(cp) for cp in SPEC_EXTENSION_CODEPOINTS]

EMOJI = "\U0001f600"  # grinning face, outside the BMP: a surrogate pair in UTF-16


# ---------------------------------------------------------------- alphabet tables


def test_spec_lists_are_complete() -> None:
    # Guards the independent lists themselves against a typo that drops or doubles an entry.
    assert len(SPEC_BASIC_CODEPOINTS) == 128
    assert len(set(SPEC_BASIC)) == 127
    assert len(set(SPEC_EXTENSION)) == 10


def test_basic_table_matches_spec() -> None:
    assert frozenset(SPEC_BASIC) == GSM7_BASIC


def test_extension_table_matches_spec() -> None:
    assert frozenset(SPEC_EXTENSION) == GSM7_EXTENSION


def test_tables_do_not_overlap_and_escape_is_not_text() -> None:
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC
    assert "\x1b" not in GSM7_EXTENSION
    assert not is_gsm7("\x1b")


@pytest.mark.parametrize("char", SPEC_BASIC)
def test_every_basic_char_is_one_septet(char: str) -> None:
    assert is_gsm7(char)
    assert gsm7_septets(char) == 1
    assert analyse(char) == TextInfo(Encoding.GSM7, 1, 1, ())


@pytest.mark.parametrize("char", SPEC_EXTENSION)
def test_every_extension_char_is_two_septets(char: str) -> None:
    assert is_gsm7(char)
    assert gsm7_septets(char) == 2
    assert analyse(char) == TextInfo(Encoding.GSM7, 2, 1, ())


@pytest.mark.parametrize(
    ("char", "why"),
    [
        ("ł", "Polish l with stroke"),
        ("ç", "lowercase c cedilla: only uppercase Ç is in the table"),
        ("`", "backtick"),
        ("\u2018", "left single curly quote"),
        ("\u2019", "right single curly quote"),
        ("\u201c", "left double curly quote"),
        ("\u201d", "right double curly quote"),
        ("\t", "tab"),
        ("\x1b", "the escape code itself"),
        ("\u2126", "ohm sign, look-alike of Greek capital omega"),
        ("á", "a acute"),
        ("\u00a0", "no-break space"),
        ("\u2026", "ellipsis"),
        (EMOJI, "emoji"),
    ],
)
def test_non_gsm_characters(char: str, why: str) -> None:
    assert not is_gsm7(char), why
    assert not is_gsm7(f"abc{char}def"), why
    info = analyse(f"abc{char}def")
    assert info.encoding is Encoding.UCS2
    assert info.non_gsm_chars == (char,)
    with pytest.raises(ValueError, match=r"not in the GSM 03\.38 alphabet"):
        gsm7_septets(f"abc{char}")


def test_uppercase_c_cedilla_is_gsm() -> None:
    assert is_gsm7("Ç")
    assert not is_gsm7("ç")


# ---------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("text", "septets"),
    [
        ("", 0),
        ("hello", 5),
        ("€", 2),
        ("price: 5€ [net]", 15 + 3),
        ("a\fb", 4),
        ("{}" * 10, 40),
        ("ÆØÅ æøå", 7),
    ],
)
def test_gsm7_septets(text: str, septets: int) -> None:
    assert gsm7_septets(text) == septets


def test_gsm7_septets_names_offending_chars() -> None:
    with pytest.raises(ValueError, match=r"'ł', 'ç'"):
        gsm7_septets("złoty ça ł")


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("a" * 306, 306, 2),
        ("a" * 307, 307, 3),
        ("a" * 459, 459, 3),
        ("a" * 460, 460, 4),
        ("€" * 80, 160, 1),
        ("€" * 80 + "a", 161, 2),
        # 152 + 2 = 154 > 153: the euro moves whole to part two, which then holds 2 + 151 = 153.
        ("a" * 152 + "€" + "a" * 151, 305, 2),
        # Same text one septet longer: unsplit counting would say 306 = 2 parts, but the pushed
        # euro leaves part one at 152, so part two overflows into a third.
        ("a" * 152 + "€" + "a" * 152, 306, 3),
        # The euro exactly fills part one (151 + 2 = 153): no push, 2 parts.
        ("a" * 151 + "€" + "a" * 153, 306, 2),
        ("a" * 151 + "€" + "a" * 154, 307, 3),
        # Every part boundary lands inside a euro: each part holds 76 euros = 152 septets.
        ("€" * 152, 304, 2),
        ("€" * 153, 306, 3),
    ],
)
def test_gsm7_segments(text: str, units: int, segments: int) -> None:
    info = analyse(text)
    assert info.encoding is Encoding.GSM7
    assert (info.units, info.segments) == (units, segments)
    assert info.non_gsm_chars == ()


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("ł", 1, 1),
        ("ł" * 70, 70, 1),
        ("ł" * 71, 71, 2),
        ("ł" * 134, 134, 2),
        ("ł" * 135, 135, 3),
        ("ł" * 201, 201, 3),
        ("ł" * 202, 202, 4),
        (EMOJI, 2, 1),
        (EMOJI * 35, 70, 1),
        (EMOJI * 35 + "a", 71, 2),
        ("ł" + EMOJI * 33 + "a" * 67, 134, 2),
        # 66 units + emoji would be 68: the pair moves whole to part two (2 + 66 = 68 > 67).
        ("ł" * 66 + EMOJI + "a" * 65, 133, 2),
        ("ł" * 66 + EMOJI + "a" * 66, 134, 3),
        # The pair exactly closes part one (65 + 2 = 67).
        ("ł" * 65 + EMOJI + "a" * 67, 134, 2),
        ("ł" * 65 + EMOJI + "a" * 68, 135, 3),
        # Odd part limit: every part boundary splits a pair, so each part holds 33 emoji.
        (EMOJI * 66, 132, 2),
        (EMOJI * 67, 134, 3),
    ],
)
def test_ucs2_segments(text: str, units: int, segments: int) -> None:
    info = analyse(text)
    assert info.encoding is Encoding.UCS2
    assert (info.units, info.segments) == (units, segments)


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("", 0, 0),
        ("hello", 5, 1),
        ("€", 1, 1),  # one code unit in UCS-2 although two septets in GSM-7
        ("a" * 70, 70, 1),
        ("a" * 71, 71, 2),
        ("a" * 134, 134, 2),
        ("a" * 135, 135, 3),
    ],
)
def test_force_unicode(text: str, units: int, segments: int) -> None:
    info = analyse(text, force_unicode=True)
    assert info == TextInfo(Encoding.UCS2, units, segments, ())


def test_non_gsm_chars_distinct_in_order_of_first_appearance() -> None:
    info = analyse(f"żółć {EMOJI} ł ż {EMOJI} “quoted” `x` é")
    assert info.non_gsm_chars == ("ż", "ó", "ł", "ć", EMOJI, "“", "”", "`")


def test_non_gsm_chars_reported_under_force_unicode() -> None:
    assert analyse("ok ł", force_unicode=True).non_gsm_chars == ("ł",)


@pytest.mark.parametrize(
    ("encoding", "single", "part"),
    [(Encoding.GSM7, 160, 153), (Encoding.UCS2, 70, 67)],
)
def test_limits(encoding: Encoding, single: int, part: int) -> None:
    info = TextInfo(encoding, 0, 0, ())
    assert (info.single_limit, info.part_limit) == (single, part)


def test_encoding_values() -> None:
    # Other modules put Encoding values straight into JSON and gateway parameters.
    assert Encoding.GSM7.value == "gsm7"
    assert isinstance(Encoding.UCS2, str)
    assert Encoding("ucs2") is Encoding.UCS2


# ---------------------------------------------------------------- ucs2_hex


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("Hi €", "00480069002020AC"),
        (EMOJI, "D83DDE00"),
        ("ł" + EMOJI, "0142D83DDE00"),
        ("\n", "000A"),
    ],
)
def test_ucs2_hex(text: str, expected: str) -> None:
    assert ucs2_hex(text) == expected


# ---------------------------------------------------------------- check_text


@pytest.mark.parametrize(
    ("text", "unicode", "max_parts", "expected"),
    [
        ("hello", None, 1, TextInfo(Encoding.GSM7, 5, 1, ())),
        ("hello", False, 1, TextInfo(Encoding.GSM7, 5, 1, ())),
        ("hello", True, 1, TextInfo(Encoding.UCS2, 5, 1, ())),
        ("cześć", None, 1, TextInfo(Encoding.UCS2, 5, 1, ("ś", "ć"))),
        ("a" * 306, None, 2, TextInfo(Encoding.GSM7, 306, 2, ())),
        ("ł" * 134, None, 2, TextInfo(Encoding.UCS2, 134, 2, ("ł",))),
        ("a" * 160, False, 1, TextInfo(Encoding.GSM7, 160, 1, ())),
    ],
)
def test_check_text_accepts(text: str, unicode: bool | None, max_parts: int, expected: TextInfo) -> None:
    assert check_text(text, unicode=unicode, max_parts=max_parts) == expected


@pytest.mark.parametrize(
    ("text", "unicode", "max_parts", "reasons"),
    [
        ("", None, 1, ["must not be empty"]),
        ("   \n ", None, 1, ["must not be whitespace only"]),
        ("a" * 161, None, 1, ["needs 2 GSM-7 parts (161 septets) but at most 1 is allowed (160 septets"]),
        ("a" * 470, None, 2, ["needs 4 GSM-7 parts (470 septets) but at most 2 are allowed (153 septets per part)"]),
        ("a" * 307, False, 2, ["needs 3 GSM-7 parts (307 septets) but at most 2 are allowed (153 septets per part)"]),
        ("a" * 71, True, 1, ["needs 2 UCS-2 parts (71 UTF-16 code units) but at most 1 is allowed (70 UTF-16"]),
        (
            EMOJI * 67,
            None,
            2,
            ["needs 3 UCS-2 parts (134 UTF-16 code units) but at most 2 are allowed (67 UTF-16 code units per part)"],
        ),
        (
            f"zł {EMOJI}",
            False,
            1,
            ["characters not in the GSM 03.38 alphabet: 'ł', '😀'; allow unicode to send as UCS-2"],
        ),
        (
            "ł" * 140,
            False,
            2,
            [
                "characters not in the GSM 03.38 alphabet: 'ł'; allow unicode to send as UCS-2",
                "needs 3 UCS-2 parts (140 UTF-16 code units) but at most 2 are allowed",
            ],
        ),
        (
            " \t ",
            False,
            1,
            ["must not be whitespace only", "characters not in the GSM 03.38 alphabet: '\\t'"],
        ),
    ],
)
def test_check_text_rejects(text: str, unicode: bool | None, max_parts: int, reasons: list[str]) -> None:
    with pytest.raises(SmsValidationError) as excinfo:
        check_text(text, unicode=unicode, max_parts=max_parts, field="body")
    problems = excinfo.value.problems
    assert len(problems) == len(reasons)
    for problem, reason in zip(problems, reasons, strict=True):
        assert problem.field == "body"
        assert reason in problem.reason


def test_check_text_lists_every_problem_in_one_error() -> None:
    text = "Zażółć gęślą jaźń `quoted` " * 20
    with pytest.raises(SmsValidationError) as excinfo:
        check_text(text, unicode=False, max_parts=3, gateway="bulksms")
    err = excinfo.value
    assert err.gateway == "bulksms"
    assert [p.field for p in err.problems] == ["message", "message"]
    chars, length = (p.reason for p in err.problems)
    assert chars.startswith(
        "characters not in the GSM 03.38 alphabet: 'ż', 'ó', 'ł', 'ć', 'ę', 'ś', 'ą', 'ź', 'ń', '`'"
    )
    assert "needs 9 UCS-2 parts (540 UTF-16 code units) but at most 3 are allowed" in length
    assert str(err).startswith("[bulksms] 2 invalid input problems, nothing was sent: ")


def test_check_text_does_not_echo_long_text() -> None:
    secret = "PIN 4711 for account " + "x" * 400
    with pytest.raises(SmsValidationError) as excinfo:
        check_text(secret + "ł", unicode=False, max_parts=1)
    for problem in excinfo.value.problems:
        assert problem.value is None or len(problem.value) <= 21
    assert "x" * 30 not in str(excinfo.value)
    assert excinfo.value.problems[0].value == "PIN 4711 for account…"


def test_check_text_empty_value_is_not_shown() -> None:
    with pytest.raises(SmsValidationError) as excinfo:
        check_text("", unicode=None, max_parts=1)
    assert excinfo.value.problems == [Problem(field="message", reason="must not be empty")]


def test_check_text_rejects_bad_max_parts() -> None:
    with pytest.raises(ValueError, match="max_parts"):
        check_text("hi", unicode=None, max_parts=0)


@pytest.mark.parametrize(("text", "shown"), [("Load\x00done", "U+0000"), ("a\x1b[31mb", "U+001B"),
                                             ("page\fbreak", "U+000C"), ("bell\x07", "U+0007"),
                                             ("del\x7f", "U+007F"), ("c1\x85", "U+0085"), ("lone\ud800", "U+D800")])
@pytest.mark.parametrize("unicode", [None, True, False])
def test_control_characters_are_refused(text: str, shown: str, unicode: bool | None) -> None:
    with pytest.raises(SmsValidationError) as exc:
        check_text(text, unicode=unicode, max_parts=3)
    assert any(p.field == "message" and "control characters" in p.reason and shown in p.reason
               for p in exc.value.problems)


def test_newline_carriage_return_and_tab_where_the_encoding_has_them() -> None:
    assert check_text("line one\r\nline two", unicode=False, max_parts=1).encoding is Encoding.GSM7
    assert check_text("col\tcol", unicode=None, max_parts=1).encoding is Encoding.UCS2  # tab is not GSM
    with pytest.raises(SmsValidationError, match=re.escape("not in the GSM 03.38 alphabet: '\\t'")):
        check_text("col\tcol", unicode=False, max_parts=1)


def test_text_that_is_not_a_string_is_a_validation_error() -> None:
    with pytest.raises(SmsValidationError, match="message: must be text, got a int"):
        check_text(42, unicode=None, max_parts=1)  # type: ignore[arg-type]


def test_typographic_characters_get_gsm_stand_ins() -> None:
    text, replaced = replace_typographic("We\u2019re open \u2013 \u201call\u201d day\u2026\u00a0\u00a35")
    assert text == "We're open - \"all\" day... \u00a35"
    assert replaced == {"\u00a0": " ", "\u2013": "-", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."}
    assert is_gsm7(text)
    assert all(is_gsm7(v) for v in TYPOGRAPHIC_TO_GSM.values())
    assert replace_typographic("plain") == ("plain", {})
