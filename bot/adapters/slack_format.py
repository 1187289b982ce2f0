"""Slack's quirks as pure functions: payloads → Command, Reply → Block Kit, retry keys.

Nothing here talks to Slack, so every rule (mrkdwn escaping, Block Kit limits, the
`/scorecard help` mapping, which messages are ours to read) is unit-testable and the
adapter in `slack.py` only moves data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from handlers.contract import Actor, ChatRef, Command, CommandSpec, Reply
from handlers.parsing import command_from_text, controls_as_spaces

Block = dict[str, Any]

# Block Kit limits (docs.slack.dev/reference/block-kit): 50 blocks per message, 3000
# characters per section text, 2000 per field, 10 fields per section, 150 in a header,
# 25 elements per actions block, 75 in a button label and 2000 in its value. Slack also
# refuses messages well below the block limit (msg_blocks_too_long at ~13.2k characters,
# slackapi/bolt-js#2509), so a message is also capped by total text.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_ACTIONS = 25
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_MESSAGE_TEXT = 12_000
MAX_FALLBACK = 3000

ACTION_PREFIX = "scorecard:"  # action_id of our buttons; the value is the command text

# Message subtypes that are still a person writing something new in the channel;
# every other subtype (message_changed, channel_join, bot_message, …) is ignored.
_READABLE_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


# --- escaping --------------------------------------------------------------------------

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Slack has no escape for its formatting characters, and one only acts at a word
# boundary (`cost_per_lead` stays plain). A zero-width space between such a character
# and its word breaks the pattern Slack looks for, while the name still looks (and
# copies) as typed: `*Hot* leads` is shown as `*Hot* leads`, not bold.
ZERO_WIDTH = "\u200b"
_OPENING_FORMAT = re.compile(r"(?<!\w)([*_~`]+)(?=\w)")
_CLOSING_FORMAT = re.compile(r"(?<=\w)([*_~`]+)(?!\w)")
_CODE_FENCE = re.compile(r"`(?=`)")


def escape_mrkdwn(text: str) -> str:
    """User text made inert in a mrkdwn field: no links, mentions or bold/italic/strike."""
    text = text.translate(_ENTITIES)
    text = _OPENING_FORMAT.sub(lambda m: m.group() + ZERO_WIDTH, text)
    return _CLOSING_FORMAT.sub(lambda m: ZERO_WIDTH + m.group(), text)


def escape_code(text: str) -> str:
    """Text for inside a ``` block: entities escaped, backticks cannot close the block."""
    return _CODE_FENCE.sub("`" + ZERO_WIDTH, text.translate(_ENTITIES))


_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def unescape_slack_text(text: str) -> str:
    """Slack's wire text back to what the person typed.

    Slack wraps channels, users and links (`<#C123|articles>`, `<@U1|anna>`,
    `<https://x|x>`) and entity-escapes `& < >`; a `#articles` hashtag arrives as a
    channel link when a channel of that name exists.
    """

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("@"):
            return f"@{label or target[1:]}"
        if target.startswith("!"):
            name = target[1:].split("^")[0]
            return f"@{label or name}"
        return target

    text = _LINK.sub(plain, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- inbound: payload → Command ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What the bot knows of a Slack user id.

    `username` is Slack's `name`, the one slash commands send as `user_name` and the
    handle is made of (`@anna`); `display_name` is the profile's name when users.info
    told it (buttons and commands carry only the username).
    """

    username: str | None
    display_name: str | None = None


Names = Mapping[str, SlackUser]  # user id -> what the bot learnt of that user


def user_from_info(user: object) -> SlackUser | None:
    """The `user` object of a users.info answer → SlackUser; None when it names nobody.

    The display name is the profile's display name, else the real name, else the username.
    """
    if not isinstance(user, Mapping):
        return None
    profile = user.get("profile")
    profile = profile if isinstance(profile, Mapping) else {}

    def text(value: object) -> str | None:
        return value.strip() or None if isinstance(value, str) else None

    username = text(user.get("name"))
    display = (
        text(profile.get("display_name"))
        or text(user.get("real_name"))
        or text(profile.get("real_name"))
    )
    if username is None and display is None:
        return None
    return SlackUser(username=username, display_name=display)


def known_user(user_id: str, username: str | None, names: Names | None) -> SlackUser | None:
    """Who `user_id` is, given the username a payload carries (if any) and what is known.

    A payload's username wins; the known profile name is kept while it is the same person.
    """
    known = (names or {}).get(user_id)
    if not username:
        return known
    if known is not None and known.username == username:
        return known
    return SlackUser(username=username)


def command_from_slash(
    body: Mapping[str, Any], received_at: datetime, names: Names | None = None
) -> Command | None:
    """`/kpi set cac 95` → Command(name="kpi", text="set cac 95").

    `/scorecard help [topic]` becomes the `help` command, as Slack apps cannot register
    `/help`.
    """
    slash = str(body.get("command", "")).strip()
    channel = str(body.get("channel_id", ""))
    user = str(body.get("user_id", ""))
    if not re.fullmatch(r"/[^\s/]+", slash) or not channel or not user:
        return None
    name = slash[1:].casefold()
    text = controls_as_spaces(unescape_slack_text(str(body.get("text", "")))).strip()
    first, _, rest = text.partition(" ")
    if name == "scorecard" and first.casefold() == "help":
        name, text = "help", rest.strip()
    return Command(
        name=name,
        text=text,
        actor=actor(user, known_user(user, str(body.get("user_name") or ""), names)),
        chat=ChatRef(platform="slack", chat_id=channel),
        received_at=received_at,
        message_id=str(body.get("trigger_id") or "") or None,
    )


_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s:,]*")


def command_from_message(
    event: Mapping[str, Any],
    received_at: datetime,
    names: Names | None = None,
    bot_user_id: str | None = None,
) -> Command | None:
    """A person's `#articles +1 published` in a channel → the `log` command; a command
    typed after mentioning the bot (`@scorecard /kpi set cac 95`, the slash optional) →
    that command; else None.

    Commands arrive as slash commands, but Slack runs none in a thread, so there people
    address the bot, and such a message was dropped without a word: it runs, answered in
    the message's thread. Other messages are read only for a hashtag, and the bot must
    never act on other bots (or itself) or on edits and joins. A message carries only the
    user id: the name comes from `names` (the adapter looks unknown ids up with users.info
    and swaps the actor in with `with_actor`). A leading mention of the bot (`@scorecard
    #articles +1`) is how people address it, not part of the line.
    """
    if event.get("type") != "message" or event.get("subtype") not in _READABLE_SUBTYPES:
        return None
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return None
    channel, ts = event.get("channel"), event.get("ts")
    text = event.get("text")
    if not (isinstance(channel, str) and isinstance(ts, str) and isinstance(text, str)):
        return None
    mention = _LEADING_MENTION.match(text)
    addressed = mention is not None and bot_user_id == mention.group(1)
    if mention is not None and bot_user_id in (None, mention.group(1)):
        text = text[mention.end() :]
    plain = unescape_slack_text(text).strip()
    slashless = addressed and not plain.startswith(("#", "/"))
    if slashless:
        plain = f"/{plain or 'help'}"  # `@scorecard kpi cac` is `/kpi cac`; a bare mention, help
    if addressed and plain.casefold() == "/import":  # as with a file (`file_command`): no file
        plain = "/scorecard import"
    if not plain.startswith("#") and not (addressed and plain.startswith("/")):
        return None
    user = str(event["user"])
    # The confirmation goes into the message's thread (started here if needed), so a
    # busy channel is not flooded with "logged" lines.
    thread = str(event.get("thread_ts") or ts)
    cmd = command_from_text(
        plain,
        actor=actor(user, known_user(user, None, names)),
        chat=ChatRef(platform="slack", chat_id=channel, thread_id=thread),
        received_at=received_at,
        via="mention" if slashless else "command",
        message_id=ts,
    )
    return cmd if cmd is not None and (addressed or cmd.via == "hashtag") else None


def edited_command(
    event: Mapping[str, Any], received_at: datetime, bot_user_id: str | None = None
) -> tuple[Command, bool] | None:
    """The command a person's edit (`message_changed`) now reads as, when it is one typed
    to the bot (`@scorecard /kpi set cac 96`) and its text changed, and whether its first
    version ran (a command or a hashtag): it is not run, but the adapter says so, as on
    Telegram, pointing to /undo only where the first version ran. A hashtag edit, and an
    edit that leaves the text as it was (Slack unfurling a link), are None."""
    if event.get("type") != "message" or event.get("subtype") != "message_changed":
        return None
    now, before = event.get("message"), event.get("previous_message")
    if not isinstance(now, Mapping) or now.get("subtype") is not None:
        return None
    if isinstance(before, Mapping) and before.get("text") == now.get("text"):
        return None
    channel = event.get("channel")
    cmd = command_from_message(
        {**now, "type": "message", "channel": channel}, received_at, bot_user_id=bot_user_id
    )
    if cmd is None or cmd.via == "hashtag":
        return None
    first = (
        command_from_message(
            {**before, "type": "message", "channel": channel},
            received_at,
            bot_user_id=bot_user_id,
        )
        if isinstance(before, Mapping)
        else None
    )
    return cmd, first is not None


_FILE_COMMAND = re.compile(r"^(?:<@\w+>\s*)?/?(?:scorecard\s+)?import\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file posted with a message: where to download it (with the bot token) and its name."""

    url: str
    name: str
    size: int


def file_command(
    event: Mapping[str, Any], received_at: datetime, names: Names | None = None
) -> tuple[Command, SharedFile] | None:
    """A person's file posted with the text `scorecard import` → that command and the file.

    Slash commands can't carry files, so a file shared in a channel with the words
    `scorecard import` (or `@scorecard import`) is the Slack way to attach one.
    """
    if event.get("type") != "message" or event.get("subtype") not in _READABLE_SUBTYPES:
        return None
    if event.get("bot_id") or not event.get("user"):
        return None
    files, channel, ts = event.get("files"), event.get("channel"), event.get("ts")
    text = unescape_slack_text(str(event.get("text") or "")).strip()
    if not (files and isinstance(files, list) and isinstance(files[0], Mapping)):
        return None
    if not (isinstance(channel, str) and isinstance(ts, str) and _FILE_COMMAND.match(text)):
        return None
    info = files[0]
    url = info.get("url_private_download") or info.get("url_private")
    if not isinstance(url, str):
        return None
    user = str(event["user"])
    cmd = Command(
        name="scorecard",
        text="import",
        actor=actor(user, known_user(user, None, names)),
        chat=ChatRef(
            platform="slack", chat_id=channel, thread_id=str(event.get("thread_ts") or ts)
        ),
        received_at=received_at,
        message_id=ts,
    )
    name = str(info.get("name") or "file")
    return cmd, SharedFile(url=url, name=name, size=int(info.get("size") or 0))


def command_from_block_action(
    body: Mapping[str, Any], received_at: datetime, names: Names | None = None
) -> Command | None:
    """A press on one of our buttons → the command in its value, via="button"."""
    actions = body.get("actions") or []
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if not actions or not isinstance(channel, str) or not user.get("id"):
        return None
    action = actions[0]
    value = action.get("value")
    if not str(action.get("action_id", "")).startswith(ACTION_PREFIX) or not value:
        return None
    message = body.get("message") or {}
    user_id = str(user["id"])
    username = user.get("username") or user.get("name")
    cmd = command_from_text(
        str(value),
        actor=actor(user_id, known_user(user_id, username, names)),
        chat=ChatRef(platform="slack", chat_id=channel, thread_id=message.get("thread_ts")),
        received_at=received_at,
        via="button",
        message_id=message.get("ts") or (body.get("container") or {}).get("message_ts"),
    )
    if cmd is not None and cmd.name == "scorecard" and cmd.text.casefold().startswith("help"):
        cmd = cmd.model_copy(update={"name": "help", "text": cmd.text[4:].strip()})
    return cmd


def actor(user_id: str, user: SlackUser | None) -> Actor:
    """The one Actor shape for every Slack payload: handle `@username`, else the id.

    A command's author is credited by handle (`@anna`), whether the name came with the
    payload (slash commands, buttons) or from users.info (channel messages).
    """
    username = user.username if user is not None else None
    display = user.display_name if user is not None else None
    return Actor(
        platform="slack",
        user_id=user_id,
        display_name=display or username or user_id,
        handle=f"@{username}" if username else None,
    )


def with_actor(cmd: Command, user: SlackUser | None) -> Command:
    """`cmd` credited to `user` (a name looked up after the payload was read)."""
    if user is None:
        return cmd
    return cmd.model_copy(update={"actor": actor(cmd.actor.user_id, user)})


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """What identifies one delivery across Slack's retries (Bolt does not dedupe).

    Events carry `event_id`; a slash command or button press carries a `trigger_id`
    unique to the invocation. A body without either is fingerprinted whole.
    """
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        return f"slack:event:{event_id}" if event_id else f"slack:event:{_fingerprint(body)}"
    if "command" in body:
        return f"slack:command:{body.get('trigger_id') or _fingerprint(body)}"
    if body.get("type") == "block_actions":
        return f"slack:action:{body.get('trigger_id') or _fingerprint(body)}"
    return None


def _fingerprint(body: Mapping[str, Any]) -> str:
    raw = json.dumps(body, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


# --- outbound: Reply → Block Kit ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One chat.postMessage / response_url payload."""

    text: str  # top-level fallback: notifications, screen readers, old clients
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SlackUpload:
    """One files_upload_v2 call (charts are private, so no image_url blocks)."""

    data: bytes
    filename: str
    title: str
    alt_txt: str | None  # pictures only
    initial_comment: str | None = None


Outgoing = SlackMessage | SlackUpload


#: Slack keeps /help for itself: handlers are told to say this instead (Command.help_command)
HELP_COMMAND = "/scorecard help"


def render_reply(reply: Reply) -> list[Outgoing]:
    """Block Kit messages within Slack's limits, then the picture upload if any."""
    blocks: list[Block] = []
    if reply.title:
        blocks.append(_header(reply.title))
    if reply.text:
        blocks.extend(_section(chunk) for chunk in _chunks(escape_mrkdwn(reply.text)))
    for start in range(0, len(reply.fields), MAX_FIELDS):
        group = reply.fields[start : start + MAX_FIELDS]
        texts = [
            _cut(f"*{escape_mrkdwn(f.label)}*\n{escape_mrkdwn(f.value)}", MAX_FIELD_TEXT)
            for f in group
        ]
        blocks.append({"type": "section", "fields": [_mrkdwn(t) for t in texts]})
    if reply.table is not None:
        fence = len("```\n\n```")
        for chunk in _chunks(escape_code(reply.table.render()), MAX_SECTION_TEXT - fence):
            blocks.append(_section(f"```\n{chunk}\n```"))
    if reply.footer:
        blocks.append({"type": "context", "elements": [_mrkdwn(_cut_escaped(reply.footer))]})
    buttons = [b for b in reply.buttons if 0 < len(b.command) <= MAX_BUTTON_VALUE]
    for start in range(0, len(buttons), MAX_ACTIONS):
        elements = [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": _cut(b.label, MAX_BUTTON_LABEL)},
                "action_id": f"{ACTION_PREFIX}{start + i}",
                "value": b.command,
            }
            for i, b in enumerate(buttons[start : start + MAX_ACTIONS])
        ]
        blocks.append({"type": "actions", "elements": elements})

    out: list[Outgoing] = []
    upload = _upload(reply)
    only_title = blocks == ([_header(reply.title)] if reply.title else [])
    if upload is not None and only_title:
        return [upload]  # a titled picture: the title rides along as the upload's comment
    if not blocks:
        return []
    pages = _paginate(blocks)
    fallback = _fallback(reply)
    for number, page in enumerate(pages, start=1):
        text = (
            fallback if number == 1 else f"{_cut(fallback, 200)} (continued {number}/{len(pages)})"
        )
        out.append(SlackMessage(text=text, blocks=page))
    if upload is not None:  # the message above already shows the title: no second copy
        out.append(replace(upload, initial_comment=None))
    if reply.document is not None:  # an export: a file in the channel, after its text
        doc = reply.document
        out.append(
            SlackUpload(data=doc.data, filename=doc.filename, title=doc.filename, alt_txt=None)
        )
    return out


def _upload(reply: Reply) -> SlackUpload | None:
    image = reply.image
    if image is None:
        return None
    title = reply.title or image.alt or image.filename
    return SlackUpload(
        data=image.data,
        filename=image.filename,
        title=_cut(title, 250),
        alt_txt=_cut(image.alt or title, 1000),
        initial_comment=_cut_escaped(reply.title) if reply.title else None,
    )


def _fallback(reply: Reply) -> str:
    """The message's `text`: all a notification or a screen reader shows, so the content
    (title, text, fields, table, footer), not just the title."""
    parts = [p for p in (reply.title, reply.text) if p]
    parts.extend(f"{f.label}: {f.value}" for f in reply.fields)
    if reply.table is not None:
        parts.append(reply.table.render())
    if reply.footer:
        parts.append(reply.footer)
    return _cut_escaped("\n".join(parts) or "Scorecard", MAX_FALLBACK)


def _paginate(blocks: list[Block]) -> list[list[Block]]:
    pages: list[list[Block]] = []
    page: list[Block] = []
    size = 0
    for block in blocks:
        length = _text_length(block)
        if page and (len(page) >= MAX_BLOCKS or size + length > MAX_MESSAGE_TEXT):
            pages.append(page)
            page, size = [], 0
        page.append(block)
        size += length
    if page:
        pages.append(page)
    return pages


def _text_length(block: Block) -> int:
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "value") and isinstance(value, str):
                    texts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(block)
    return sum(len(t) for t in texts)


def _header(title: str) -> Block:
    # plain_text is never parsed (no links, no mentions), so it is not escaped.
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(title, MAX_HEADER)}}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not turn "#articles" or a bare URL in user text into links.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking the cut; never splits an entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"


def _cut_escaped(text: str | None, limit: int = MAX_SECTION_TEXT) -> str:
    return _cut(escape_mrkdwn(text or ""), limit)


def _chunks(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split escaped text at line ends into pieces of at most `limit` characters."""
    pieces: list[str] = []
    current = ""
    for line in _hard_wrap(text.split("\n"), limit):
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def _hard_wrap(lines: Iterable[str], limit: int) -> Iterable[str]:
    for line in lines:
        while len(line) > limit:
            cut = limit
            amp = line.rfind("&", 0, cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp  # never split "&amp;" across sections
            yield line[:cut]
            line = line[cut:]
        yield line


# --- the manifest's slash commands ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """One entry of the manifest's `features.slash_commands`."""

    command: str  # "/kpi"
    description: str
    usage_hint: str


def slash_commands(specs: Sequence[CommandSpec]) -> list[SlashCommand]:
    """The slash commands Slack must know for these router specs, in router order.

    Each top-level word of a spec path is one slash command (`kpi set` → `/kpi`);
    `help` is left out because it is `/scorecard help` on Slack.
    """
    groups: dict[str, list[CommandSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.path.split()[0], []).append(spec)
    groups.pop("help", None)
    result = []
    for word, group in groups.items():
        top = next((s for s in group if s.path == word), group[0])
        subs = dict.fromkeys(s.path.split()[1] for s in group if " " in s.path)
        own = top.usage.removeprefix(f"/{word}").strip() if top.path == word else ""
        extra = ["help [command]"] if word == "scorecard" else []
        hint = " | ".join(filter(None, [own, *subs, *extra]))
        result.append(SlashCommand(f"/{word}", _cut(top.summary, 100), _cut(hint, 100)))
    return result


ResponseType = Literal["in_channel", "ephemeral"]


def response_type(reply: Reply) -> ResponseType:
    """Errors and private replies (a new API token) answer only the person who typed the
    command; everything else the channel."""
    return "ephemeral" if reply.kind == "error" or reply.private else "in_channel"


# Slack error codes after which resending the same message can never succeed.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_authed",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
        # our payload is wrong: a retry would send the same bytes
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "too_many_attachments",
        "invalid_arguments",
        "no_text",
    }
)


def is_permanent(error_code: str | None) -> bool:
    """Unknown codes count as transient: the outbox retries them a few times."""
    return error_code in PERMANENT_ERRORS
