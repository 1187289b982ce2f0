"""Slack rules as pure functions: escaping, payload → Command, Block Kit limits, retry keys."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters import slack_format as fmt
from handlers.contract import Actor, Button, CommandSpec, Field, Image, Reply, Table

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text string in a block list (section text, fields, context, buttons)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def messages(reply: Reply) -> list[fmt.SlackMessage]:
    return [m for m in fmt.render_reply(reply) if isinstance(m, fmt.SlackMessage)]


# --- escaping ------------------------------------------------------------------------------


def test_mrkdwn_escaping_neutralises_links_mentions_and_formatting() -> None:
    hostile = "<!channel> <https://evil.example|click> & *boss* _co_ ~gone~ `x`"
    escaped = fmt.escape_mrkdwn(hostile)
    assert "<" not in escaped and ">" not in escaped
    assert "&lt;!channel&gt;" in escaped and "&amp;" in escaped
    for marker in ("*boss*", "_co_", "~gone~", "`x`"):
        assert marker not in escaped


def test_escaped_names_look_exactly_as_typed() -> None:
    typed = "*Hot* leads _q1_ `beta` ~old~ 5*3 & <b>"
    escaped = fmt.escape_mrkdwn(typed)
    assert (
        escaped.replace(fmt.ZERO_WIDTH, "") == "*Hot* leads _q1_ `beta` ~old~ 5*3 &amp; &lt;b&gt;"
    )
    # no formatting character touches a word at a word edge, which is what Slack formats
    assert not re.search(r"(?<!\w)[*_~`]\w|\w[*_~`](?!\w)", escaped)
    code = fmt.escape_code("a ``` b")
    assert code.replace(fmt.ZERO_WIDTH, "") == "a ``` b" and "``" not in code


def test_mrkdwn_escaping_keeps_underscores_inside_keys() -> None:
    assert fmt.escape_mrkdwn("cost_per_lead 5*3") == "cost_per_lead 5*3"


def test_code_escaping_cannot_close_the_code_block() -> None:
    assert "```" not in fmt.escape_code("```<b>&")
    assert fmt.escape_code("<b>&").startswith("&lt;b&gt;&amp;")


@pytest.mark.parametrize(
    ("wire", "typed"),
    [
        ("<#C0ART|articles> +1 published", "#articles +1 published"),
        ("#articles +1 &lt;3 &amp; more", "#articles +1 <3 & more"),
        ("owner=<@U0ANNA|anna>", "owner=@anna"),
        ("see <https://example.com|example.com>", "see https://example.com"),
        ("<!here> hi", "@here hi"),
    ],
)
def test_slack_wire_text_is_read_as_typed(wire: str, typed: str) -> None:
    assert fmt.unescape_slack_text(wire) == typed


# --- inbound -------------------------------------------------------------------------------


def slash(command: str, text: str, **extra: str) -> dict[str, Any]:
    body = {
        "command": command,
        "text": text,
        "channel_id": "C0TEAM",
        "user_id": "U0ANNA",
        "user_name": "anna",
        "trigger_id": "t1",
    }
    return body | extra


def test_slash_command_becomes_a_command_named_after_it() -> None:
    cmd = fmt.command_from_slash(slash("/kpi", "set cac 95"), NOW)
    assert cmd is not None
    assert (cmd.name, cmd.text, cmd.via) == ("kpi", "set cac 95", "command")
    assert cmd.chat.key == "slack:C0TEAM" and cmd.chat.thread_id is None
    assert (cmd.actor.user_id, cmd.actor.handle) == ("U0ANNA", "@anna")


def test_control_characters_in_a_slash_command_are_read_as_spaces() -> None:
    cmd = fmt.command_from_slash(slash("/kpi", 'add ctl "Leads\x1b[2J\x00per month"'), NOW)
    assert cmd is not None and cmd.text == 'add ctl "Leads [2J per month"'


@pytest.mark.parametrize(
    ("text", "name", "rest"),
    [
        ("help", "help", ""),
        ("HELP kpi set", "help", "kpi set"),
        ("helpful", "scorecard", "helpful"),
        ("", "scorecard", ""),
    ],
)
def test_scorecard_help_is_the_help_command(text: str, name: str, rest: str) -> None:
    cmd = fmt.command_from_slash(slash("/scorecard", text), NOW)
    assert cmd is not None and (cmd.name, cmd.text) == (name, rest)


def test_slash_payload_without_channel_is_ignored() -> None:
    assert fmt.command_from_slash(slash("/kpi", "", channel_id=""), NOW) is None


def event(text: str, **extra: Any) -> dict[str, Any]:
    base = {"type": "message", "channel": "C0TEAM", "user": "U0ANNA", "text": text, "ts": "1.1"}
    return base | extra


def test_hashtag_message_becomes_log_answered_in_its_thread() -> None:
    names = {"U0ANNA": fmt.SlackUser("anna")}
    cmd = fmt.command_from_message(event("#articles +1 published"), NOW, names)
    assert cmd is not None
    assert (cmd.name, cmd.text, cmd.via) == ("log", "articles +1 published", "hashtag")
    assert cmd.chat.thread_id == "1.1" and cmd.message_id == "1.1"
    assert (cmd.actor.display_name, cmd.actor.handle) == ("anna", "@anna")


def test_hashtag_from_an_unknown_id_is_credited_to_the_id_until_named() -> None:
    cmd = fmt.command_from_message(event("#articles +1"), NOW)
    assert cmd is not None
    assert (cmd.actor.display_name, cmd.actor.handle) == ("U0ANNA", None)
    named = fmt.with_actor(cmd, fmt.SlackUser("anna", "Anna"))
    assert named.actor == Actor(
        platform="slack", user_id="U0ANNA", display_name="Anna", handle="@anna"
    )
    assert named.model_copy(update={"actor": cmd.actor}) == cmd  # nothing else changed
    assert fmt.with_actor(cmd, None) is cmd


def info_user(name: str = "anna", display: str = "", real: str = "") -> dict[str, Any]:
    return {
        "id": "U0ANNA",
        "name": name,
        "real_name": real,
        "profile": {"display_name": display, "real_name": real},
    }


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (info_user(display="Anna", real="Anna Berg"), fmt.SlackUser("anna", "Anna")),
        (info_user(display="  ", real="Anna Berg"), fmt.SlackUser("anna", "Anna Berg")),
        (
            {"name": "anna", "profile": {"real_name": "Anna Berg"}},
            fmt.SlackUser("anna", "Anna Berg"),
        ),
        (info_user(), fmt.SlackUser("anna", None)),
        ({"profile": {"display_name": "Anna"}}, fmt.SlackUser(None, "Anna")),
        ({"id": "U0ANNA", "profile": {}}, None),
        (None, None),
        ("anna", None),
    ],
    ids=[
        "display",
        "real",
        "profile-real",
        "username-only",
        "no-username",
        "nameless",
        "none",
        "str",
    ],
)
def test_users_info_user_object_names_the_user(user: object, expected: object) -> None:
    assert fmt.user_from_info(user) == expected


def test_every_payload_builds_the_same_actor_shape() -> None:
    """Slash command, button and looked-up message author: display name, `@username`."""
    looked_up = fmt.user_from_info(info_user(display="Anna", real="Anna Berg"))
    names = {"U0ANNA": looked_up} if looked_up else {}
    slash_cmd = fmt.command_from_slash(slash("/kpi", ""), NOW, names)
    button = fmt.command_from_block_action(action("/kpi"), NOW, names)
    message = fmt.command_from_message(event("#articles +1"), NOW, names)
    actors = [c.actor for c in (slash_cmd, button, message) if c is not None]
    assert len(actors) == 3
    assert {(a.user_id, a.display_name, a.handle) for a in actors} == {("U0ANNA", "Anna", "@anna")}
    # Without a lookup, the payload's username is both the name and the handle.
    plain = fmt.command_from_slash(slash("/kpi", ""), NOW)
    assert plain is not None and (plain.actor.display_name, plain.actor.handle) == (
        "anna",
        "@anna",
    )
    # A renamed user: the payload's new username wins over the cached profile.
    renamed = fmt.command_from_slash(slash("/kpi", "", user_name="anna.b"), NOW, names)
    assert renamed is not None
    assert (renamed.actor.display_name, renamed.actor.handle) == ("anna.b", "@anna.b")


def test_hashtag_inside_a_thread_answers_in_that_thread() -> None:
    cmd = fmt.command_from_message(event("#articles +2", thread_ts="0.9"), NOW)
    assert cmd is not None and cmd.chat.thread_id == "0.9"


@pytest.mark.parametrize(
    "message",
    [
        event("just chatting about #articles"),
        event("/kpi set cac 95"),
        event("#articles +1", bot_id="B0OTHER"),
        event("#articles +1", subtype="bot_message"),
        event("#articles +1", subtype="message_changed"),
        event("#articles +1", subtype="channel_join"),
        {"type": "message", "channel": "C0TEAM", "text": "#articles +1", "ts": "1.1"},
    ],
    ids=["no-hashtag", "slash-text", "bot", "bot-subtype", "edit", "join", "no-user"],
)
def test_messages_that_are_not_a_persons_hashtag_are_ignored(message: dict[str, Any]) -> None:
    assert fmt.command_from_message(message, NOW) is None


def action(value: str, action_id: str = "scorecard:0") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0ANNA", "username": "anna"},
        "channel": {"id": "C0TEAM"},
        "message": {"ts": "2.2"},
        "actions": [{"action_id": action_id, "value": value}],
        "trigger_id": "t9",
    }


def test_button_press_becomes_its_command() -> None:
    cmd = fmt.command_from_block_action(action("/kpi restore cac"), NOW)
    assert cmd is not None
    assert (cmd.name, cmd.text, cmd.via) == ("kpi", "restore cac", "button")


def test_scorecard_help_button_reaches_help() -> None:
    cmd = fmt.command_from_block_action(action("/scorecard help kpi"), NOW)
    assert cmd is not None and (cmd.name, cmd.text) == ("help", "kpi")


def test_foreign_action_is_ignored() -> None:
    assert fmt.command_from_block_action(action("/kpi", action_id="other"), NOW) is None


def test_delivery_keys_identify_one_delivery() -> None:
    assert fmt.delivery_key({"type": "event_callback", "event_id": "Ev1"}) == "slack:event:Ev1"
    assert fmt.delivery_key(slash("/kpi", "")) == "slack:command:t1"
    assert fmt.delivery_key(action("/kpi")) == "slack:action:t9"
    no_trigger = {"command": "/kpi", "text": "x"}
    assert fmt.delivery_key(no_trigger) == fmt.delivery_key(dict(no_trigger))
    assert fmt.delivery_key({"type": "url_verification"}) is None


# --- outbound ------------------------------------------------------------------------------


def test_reply_renders_header_section_fields_table_context_and_buttons() -> None:
    reply = Reply(
        title="CAC",
        text="Saved.",
        fields=(Field(label="Target", value="80"),),
        table=Table(columns=("kpi", "value"), rows=(("cac", "95"),)),
        footer="2 left out",
        buttons=(Button(label="Undo", command="/kpi restore cac"),),
    )
    [message] = messages(reply)
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["header", "section", "section", "section", "context", "actions"]
    assert message.text.startswith("CAC\nSaved.")
    assert message.blocks[3]["text"]["text"].startswith("```\nkpi")
    button = message.blocks[5]["elements"][0]
    assert button["value"] == "/kpi restore cac"
    assert button["action_id"].startswith(fmt.ACTION_PREFIX)


def test_every_user_string_is_escaped_in_mrkdwn() -> None:
    hostile = "<!channel> *x* & <@U1>"
    reply = Reply(
        text=hostile,
        fields=(Field(label=hostile, value=hostile),),
        table=Table(columns=("name",), rows=((hostile + "```",),)),
        footer=hostile,
    )
    [message] = messages(reply)
    for text in [*texts(message.blocks), message.text]:
        assert "<" not in text and ">" not in text, text
        if not text.startswith("```"):  # formatting is inert inside a code block anyway
            assert "*x*" not in text, text
    assert sum(t.count("```") for t in texts(message.blocks)) == 2  # only our own fence


def test_long_table_is_split_within_block_kit_limits() -> None:
    rows = tuple((f"kpi-{i:04d}", "x" * 60, f"{i}") for i in range(1500))
    reply = Reply(title="All KPIs", table=Table(columns=("key", "name", "v"), rows=rows))
    out = messages(reply)
    assert len(out) > 1
    shown = ""
    for message in out:
        assert 0 < len(message.blocks) <= fmt.MAX_BLOCKS
        assert message.text
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= fmt.MAX_SECTION_TEXT
                shown += block["text"]["text"]
        assert len(json.dumps(message.blocks)) < 40_000
    assert all(f"kpi-{i:04d}" in shown for i in range(1500))


def test_long_line_is_cut_without_splitting_an_entity() -> None:
    reply = Reply(text="&" * 5000)
    sections = [b["text"]["text"] for m in messages(reply) for b in m.blocks]
    assert all(len(s) <= fmt.MAX_SECTION_TEXT for s in sections)
    assert "".join(sections) == "&amp;" * 5000


def test_many_fields_and_buttons_respect_per_block_limits() -> None:
    reply = Reply(
        title="T" * 400,
        fields=tuple(Field(label=f"f{i}", value="v") for i in range(23)),
        buttons=tuple(Button(label="B" * 100, command=f"/kpi {i}") for i in range(30)),
    )
    [message] = messages(reply)
    assert len(message.blocks[0]["text"]["text"]) <= fmt.MAX_HEADER
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 30
    assert all(
        len(e["text"]["text"]) <= fmt.MAX_BUTTON_LABEL for a in actions for e in a["elements"]
    )


def test_picture_with_title_is_one_upload_with_the_title_as_comment() -> None:
    reply = Reply(
        title="Map <b>", image=Image(data=b"png", filename="map.png", alt="strategy map")
    )
    [upload] = fmt.render_reply(reply)
    assert isinstance(upload, fmt.SlackUpload)
    assert upload.filename == "map.png" and upload.data == b"png"
    assert upload.initial_comment == "Map &lt;b&gt;"
    assert upload.alt_txt == "strategy map"


def test_picture_with_text_sends_the_text_then_the_upload() -> None:
    reply = Reply(title="Map", text="3 objectives", image=Image(data=b"png"))
    out = fmt.render_reply(reply)
    assert [type(o).__name__ for o in out] == ["SlackMessage", "SlackUpload"]


def test_errors_answer_only_the_sender() -> None:
    assert fmt.response_type(Reply(text="no", kind="error")) == "ephemeral"
    assert fmt.response_type(Reply(text="ok")) == "in_channel"


def test_empty_reply_renders_nothing() -> None:
    assert fmt.render_reply(Reply()) == []


def test_permanent_error_codes() -> None:
    for code in ("channel_not_found", "not_in_channel", "is_archived", "invalid_auth"):
        assert fmt.is_permanent(code)
    for transient in ("ratelimited", "internal_error", "fatal_error", None):
        assert not fmt.is_permanent(transient)


# --- slash command list --------------------------------------------------------------------


def spec(path: str, usage: str = "") -> CommandSpec:
    return CommandSpec(path, f"About {path}.", f"About {path}.", usage or f"/{path}", "", False)


def test_slash_commands_are_the_top_level_words_without_help() -> None:
    specs = [
        spec("scorecard"),
        spec("kpi", "/kpi [<key>]"),
        spec("kpi set"),
        spec("kpi add"),
        spec("help", "/help [command]"),
        spec("log", "/log <initiative> [+N]"),
    ]
    commands = fmt.slash_commands(specs)
    assert [c.command for c in commands] == ["/scorecard", "/kpi", "/log"]
    by_name = {c.command: c for c in commands}
    assert by_name["/kpi"].usage_hint == "[<key>] | set | add"
    assert by_name["/kpi"].description == "About kpi."
    assert "help" in by_name["/scorecard"].usage_hint
    assert by_name["/log"].usage_hint == "<initiative> [+N]"
