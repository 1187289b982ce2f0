"""Reply → Telegram HTML rules, without a network: escaping, splitting, buttons, menu."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.telegram_format import (
    EXPIRED_BUTTON,
    MAX_CALLBACK_BYTES,
    CallbackTokens,
    bot_commands,
    callback_data,
    html_to_plain,
    render_html,
    render_reply,
    reply_lines,
    resolve_callback,
    split_html,
    utf16_len,
)
from handlers.contract import Button, CommandSpec, Field, Image, Reply, Table
from tests.fakes.telegram_api import html_errors

HOSTILE = "<script>&_*"


def literal(command: str) -> str:
    return command


def pre_balanced(chunk: str) -> bool:
    return chunk.count("<pre>") == chunk.count("</pre>") and (
        "<pre>" not in chunk or chunk.index("<pre>") < chunk.index("</pre>")
    )


def test_every_user_string_is_escaped_and_the_markup_stays_valid() -> None:
    reply = Reply(
        title=HOSTILE,
        text=f"owner {HOSTILE} said a<b & c>d",
        fields=(Field(label=HOSTILE, value=HOSTILE),),
        table=Table(columns=("name", "v"), rows=((HOSTILE, "1"),)),
        footer=HOSTILE,
    )

    text = render_html(reply)

    assert html_errors(text) == []
    assert "<script>" not in text
    assert text.count("&lt;script&gt;&amp;_*") == 6
    assert html_to_plain(text).count(HOSTILE) == 6


def test_parts_are_styled_title_bold_fields_labelled_table_pre_footer_italic() -> None:
    reply = Reply(
        title="CAC",
        text="Cost per customer",
        fields=(Field(label="Target", value="80"),),
        table=Table(columns=("kpi", "value"), rows=(("cac", "95"),), align=("l", "r")),
        footer="updated today",
    )

    assert render_html(reply) == (
        "<b>CAC</b>\nCost per customer\n<b>Target</b>: 80\n"
        "<pre>kpi  value\ncac     95</pre>\n<i>updated today</i>"
    )


def test_multiline_title_keeps_each_line_balanced() -> None:
    text = render_html(Reply(title="one\ntwo"))
    assert text == "<b>one</b>\n<b>two</b>"


def long_reply() -> Reply:
    text = "\n".join(f"note {i}: " + "words & more words " * 5 for i in range(70))
    rows = tuple((f"kpi_{i}", f"{i * 1.5:.1f}", "<ok>") for i in range(150))
    return Reply(
        title="Weekly digest",
        text=text,
        table=Table(columns=("key", "value", "status"), rows=rows),
        footer="end",
    )


def test_a_10000_character_reply_splits_into_valid_messages_at_line_boundaries() -> None:
    reply = long_reply()
    assert len(reply.plain()) >= 10_000

    messages = render_reply(reply, literal)

    assert len(messages) >= 3
    original_lines = set(reply.plain().split("\n"))
    for message in messages:
        assert utf16_len(message.html) <= 4096
        assert html_errors(message.html) == []
        assert pre_balanced(message.html)
        for line in html_to_plain(message.html).split("\n"):
            assert line in original_lines  # no line was cut in two
    joined = "\n".join(html_to_plain(m.html) for m in messages)
    assert joined == reply.plain()


def test_a_table_split_across_messages_is_closed_and_reopened() -> None:
    rows = tuple((f"row {i}", "x" * 60) for i in range(120))
    messages = render_reply(Reply(table=Table(columns=("a", "b"), rows=rows)), literal)

    assert len(messages) >= 2
    for message in messages:
        assert message.html.startswith("<pre>")
        assert message.html.endswith("</pre>")
        assert pre_balanced(message.html)


def test_one_overlong_line_is_cut_without_breaking_entities() -> None:
    text = ("a&b " * 3000).strip()

    messages = render_reply(Reply(text=text), literal)

    assert len(messages) >= 2
    for message in messages:
        assert utf16_len(message.html) <= 4096
        assert html_errors(message.html) == []
    assert "".join(html_to_plain(m.html) for m in messages) == text


_PIECES = st.sampled_from(["a", "word ", " ", "\n", "<", "&", "é", "🔴", "x" * 40])
_TEXT = st.lists(_PIECES, max_size=60).map("".join)


@given(
    text=_TEXT,
    rows=st.lists(st.tuples(_TEXT, _TEXT), max_size=40),
    limit=st.sampled_from([40, 120, 4096]),
)
def test_any_reply_packs_into_valid_messages_within_the_limit_losing_no_text(
    text: str, rows: list[tuple[str, str]], limit: int
) -> None:
    cells = tuple((a.replace("\n", " "), b.replace("\n", " ")) for a, b in rows)
    reply = Reply(title="T", text=text, table=Table(columns=("k", "v"), rows=cells))

    chunks = split_html(reply_lines(reply), limit=limit)

    for chunk in chunks:
        assert utf16_len(chunk) <= limit
        assert html_errors(chunk) == []
        assert pre_balanced(chunk)
    # lines are only cut between characters, so the words survive apart from breaks
    shown = re.sub(r"\s", "", "".join(html_to_plain(c) for c in chunks))
    assert shown == re.sub(r"\s", "", reply.plain())


def test_length_is_counted_in_utf16_units_like_telegram() -> None:
    assert utf16_len("📈") == 2
    messages = render_reply(Reply(text="📈" * 3000), literal)
    assert len(messages) == 2
    assert all(utf16_len(m.html) <= 4096 for m in messages)


def test_empty_reply_renders_nothing_and_buttons_alone_get_a_prompt() -> None:
    assert render_reply(Reply(), literal) == []
    only_buttons = render_reply(Reply(buttons=(Button(label="Yes", command="/yes"),)), literal)
    assert len(only_buttons) == 1
    assert only_buttons[0].keyboard[0][0].data == "/yes"


def test_image_with_short_text_is_one_photo_with_caption() -> None:
    reply = Reply(title=HOSTILE, text="chart", image=Image(data=b"png", alt="trend"))

    (photo,) = render_reply(reply, literal)

    assert photo.photo == b"png"
    assert photo.html == "<b>&lt;script&gt;&amp;_*</b>\nchart"


def test_image_with_long_text_gets_title_caption_then_text_messages() -> None:
    reply = Reply(title="Trend", text="x " * 800, image=Image(data=b"png"))

    photo, *rest = render_reply(reply, literal)

    assert photo.photo == b"png"
    assert photo.html == "<b>Trend</b>"
    assert utf16_len(photo.html) <= 1024
    assert rest and all(m.photo is None for m in rest)
    assert "Trend" not in rest[0].html


def test_a_picture_without_words_is_captioned_with_its_alt_text() -> None:
    reply = Reply(image=Image(data=b"png", alt="Scorecard <dashboard>"))

    (photo,) = render_reply(reply, literal)

    assert (photo.photo, photo.html) == (b"png", "<b>Scorecard &lt;dashboard&gt;</b>")
    assert render_reply(Reply(image=Image(data=b"png")), literal)[0].html == ""


def test_buttons_go_on_the_last_message() -> None:
    reply = long_reply().model_copy(update={"buttons": (Button(label="More", command="/more"),)})
    messages = render_reply(reply, literal)
    assert [bool(m.keyboard) for m in messages] == [False] * (len(messages) - 1) + [True]


def test_short_command_is_its_own_callback_data() -> None:
    tokens = CallbackTokens()
    assert callback_data("/kpi show cac", "1", tokens) == "/kpi show cac"
    assert callback_data("kpi show cac", "1", tokens) == "/kpi show cac"
    assert len(tokens) == 0
    assert resolve_callback("/kpi show cac", "1", tokens) == "/kpi show cac"


@pytest.mark.parametrize(
    "command",
    ["/kpi set " + "x" * 60, "/kpi note cac " + "ё" * 30],  # too long; too many UTF-8 bytes
)
def test_long_command_is_mapped_to_a_short_token(command: str) -> None:
    tokens = CallbackTokens()

    data = callback_data(command, "1", tokens)

    assert len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
    assert data != command
    assert resolve_callback(data, "1", tokens) == command


@pytest.mark.parametrize("data", ["t:not-a-token", "garbage", "", "t:"])
def test_unknown_callback_data_resolves_to_nothing(data: str) -> None:
    tokens = CallbackTokens()
    callback_data("/kpi set " + "x" * 60, "1", tokens)
    assert resolve_callback(data, "1", tokens) is None


def test_a_token_only_works_in_the_chat_it_was_sent_to() -> None:
    tokens = CallbackTokens()
    data = callback_data("/kpi set " + "x" * 60, "1", tokens)
    assert resolve_callback(data, "2", tokens) is None


def test_oldest_tokens_are_forgotten_first() -> None:
    tokens = CallbackTokens(capacity=2)
    first = callback_data("/a " + "x" * 70, "1", tokens)
    second = callback_data("/b " + "x" * 70, "1", tokens)
    third = callback_data("/c " + "x" * 70, "1", tokens)
    assert resolve_callback(first, "1", tokens) is None
    assert resolve_callback(second, "1", tokens) is not None
    assert resolve_callback(third, "1", tokens) is not None


def test_expired_button_message_is_what_the_issue_promised() -> None:
    assert EXPIRED_BUTTON == "This button has expired"


def spec(path: str, summary: str = "") -> CommandSpec:
    return CommandSpec(
        path=path, summary=summary, doc=summary, usage="", example="", mutates=False
    )


def test_menu_has_one_entry_per_top_level_command() -> None:
    specs = [
        spec("kpi", "Show KPIs"),
        spec("kpi set", "Record a value"),
        spec("okr checkin", "Check in"),
        spec("okr progress", "Progress"),
        spec("Bad-Name", "rejected by Telegram"),
        spec("x" * 33, "too long"),
        spec("help", "Explain   commands\nand usage"),
    ]

    assert bot_commands(specs) == [
        ("kpi", "Show KPIs"),
        ("okr", "checkin, progress"),
        ("help", "Explain commands and usage"),
    ]


def test_menu_respects_telegram_limits() -> None:
    specs = [spec(f"cmd{i}", "d" * 300) for i in range(150)]
    commands = bot_commands(specs)
    assert len(commands) == 100
    assert all(len(description) <= 256 for _, description in commands)


def test_plain_fallback_unescapes_entities() -> None:
    assert html_to_plain(render_html(Reply(title=HOSTILE))) == HOSTILE
    assert html.unescape("&amp;") == "&"


def test_the_same_reply_again_is_laid_out_once_and_sends_the_same_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.adapters.telegram_format as fmt

    laid_out: list[Reply] = []
    lines = fmt.reply_lines

    def counting(reply: Reply) -> list[fmt._Line]:
        laid_out.append(reply)
        return lines(reply)

    monkeypatch.setattr(fmt, "reply_lines", counting)
    table = Table(columns=("KPI", "value"), rows=(("🟢 Once (once)", "1"),), align=("l", "r"))
    reply = Reply(title="Laid out once", table=table, buttons=(Button(label="Go", command="/go"),))
    first = render_reply(reply, literal)
    again = render_reply(reply.model_copy(), literal)  # an equal reply, e.g. copied on its way
    assert again == first and len(laid_out) == 1
    assert first[0].keyboard[0][0].data == "/go"  # buttons are made for each send
    other = render_reply(reply.model_copy(update={"title": "Changed"}), literal)
    assert other[0].html.startswith("<b>Changed</b>") and len(laid_out) == 2


def test_a_reply_copied_with_a_list_inside_is_still_sent_whole() -> None:
    reply = Reply(title="Listed").model_copy(update={"fields": [Field(label="a", value="1")]})
    (message,) = render_reply(reply, literal)
    assert message.html == "<b>Listed</b>\n<b>a</b>: 1"
