"""Telegram adapter: PTB 22 long polling inside our loop, Commands in, Replies out.

PTB stays in this file and `telegram_format.py`: handlers only ever see Command and
Reply. Every update goes through one funnel (`_on_update`) so access control,
redelivery dedupe and logging happen in one place.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    ExtBot,
    TypeHandler,
)
from telegram.request import HTTPXRequest

from bot.adapters import telegram_format as fmt
from bot.adapters.base import (
    EDITED_COMMAND,
    EDITED_INTO_COMMAND,
    ChatMoved,
    DeliveryError,
    Dispatch,
    Pacer,
    Prepare,
    ReplyLanes,
    SeenLog,
    SendLater,
    Sleep,
    StartupError,
    dispatch_for,
    drawn,
    kept_for_later,
)
from bot.adapters.policy import TELEGRAM, DeliveryPolicy, send_retrying
from bot.logging import log_command, log_fields
from handlers.contract import Actor, Attachment, ChatRef, Clock, Command, CommandSpec, Reply
from handlers.parsing import clip, command_from_text

_LOGGER = logging.getLogger(__name__)

NOT_ENABLED = "This bot is not enabled for this chat."
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit
RAN_REMEMBERED = 4096  # messages run as commands kept in mind for their edits

_App = Application[Any, Any, Any, Any, Any, Any]
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # PTB objects are frozen: one serves all


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _HandledRetryAfterFilter(logging.Filter):
    """Drops AIORateLimiter's ERROR+traceback for a RetryAfter we retry ourselves.

    We build the limiter with max_retries=0 so waits use our injectable sleep; the
    limiter then logs every 429 as "Rate limit hit after maximum of 0 retries".
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Rate limit hit after maximum of 0 retries")


class _OneLineFilter(logging.Filter):
    """Turns PTB records that would print a traceback for something already handled
    into one short line without content."""

    # message prefix -> (level, replacement)
    REWRITES: Mapping[str, tuple[int, str]] = {
        # a non-JSON answer (a proxy's error page): it reaches us as an exception anyway
        "Can not load invalid JSON data": (
            logging.WARNING,
            "the Bot API answered with something that is not JSON",
        ),
        # one update of a batch is unreadable: `_Bot` reads the batch again and says which
        "Error while parsing updates!": (
            logging.DEBUG,
            "an update could not be read; reading the batch update by update",
        ),
        # stopping: the last getUpdates only confirms updates; they run once anyway
        "Error while calling `get_updates` one more time": (
            logging.INFO,
            "could not confirm the last updates while stopping; "
            "Telegram may send them again and they will be skipped",
        ),
    }

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for prefix, (level, text) in self.REWRITES.items():
            if message.startswith(prefix):
                record.msg, record.args = text, None
                record.exc_info, record.exc_text = None, None
                record.levelno, record.levelname = level, logging.getLevelName(level)
        return True


def _adjust_ptb_globals() -> None:
    """Process-wide PTB settings the adapter relies on; idempotent."""
    # Opt in to PTB's future (v23) behaviour: RetryAfter.retry_after is a timedelta.
    # Otherwise PTB warns (v22.2 deprecation) whenever it *creates* a RetryAfter.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    filters: list[tuple[str, type[logging.Filter]]] = [
        ("telegram.ext.AIORateLimiter", _HandledRetryAfterFilter),
        ("telegram.request.BaseRequest", _OneLineFilter),
        ("telegram.ext.Updater", _OneLineFilter),
        ("telegram.ext.ExtBot", _OneLineFilter),
    ]
    for name, kind in filters:
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _message_key(message: Message) -> str:
    """How a message is known among those run as commands (`_ran`): its chat and its id,
    which an edit keeps."""
    return f"{message.chat.id}:{message.message_id}"


def _file_url(base_url: str) -> str:
    """Telegram serves files next to the API: `…/bot` → `…/file/bot`."""
    return base_url.removesuffix("/bot") + "/file/bot"


def _chat_target(chat_id: str) -> int | str:
    """Numeric chat ids go to Telegram as ints (PTB's group limiter keys on them)."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id  # "@channelname"


class TelegramAdapter:
    """The Telegram side of the bot: receive by long polling, send for the outbox."""

    platform = "telegram"

    def __init__(
        self,
        token: str,
        dispatch: Dispatch,
        *,
        base_url: str = "https://api.telegram.org/bot",
        base_file_url: str | None = None,
        allowed_chats: Collection[str | int] = frozenset(),
        seen: SeenLog,
        specs: Sequence[CommandSpec] = (),
        clock: Clock = _utc_now,
        on_chat_moved: ChatMoved | None = None,
        prepare: Prepare | None = None,
        later: SendLater | None = None,
        poll_timeout: float = 30.0,
        chat_interval: float = 1.0,
        policy: DeliveryPolicy = TELEGRAM,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        _adjust_ptb_globals()
        self._dispatch = dispatch
        self._allowed = frozenset(str(c) for c in allowed_chats)
        self._seen = seen
        self._specs = tuple(specs)
        self._clock = clock
        self._on_chat_moved = on_chat_moved
        self._prepare = prepare
        self._later = later
        self._poll_timeout = poll_timeout
        self._policy = policy
        self._sleep = sleep
        self._replies = ReplyLanes(_LOGGER, "telegram")
        self._pacer = Pacer(chat_interval, monotonic, sleep)
        self._tokens = fmt.CallbackTokens()
        self._noticed: set[str] = set()  # chats told "not enabled" already
        self._gone: set[str] = set()  # chats where we were kicked or blocked
        self._migrated: dict[str, str] = {}  # old group id -> supergroup id
        # Messages run as commands lately (chat:message id), oldest first: an edit of one
        # points to /undo; Telegram's edit does not carry the first version.
        self._ran: dict[str, None] = {}
        self._started = False
        self.bot_username: str | None = None
        bot = _Bot(
            token,
            base_url=base_url,
            base_file_url=base_file_url or _file_url(base_url),
            request=_SendRequest(
                connection_pool_size=256,  # PTB's own default for everything but polling
                connect_timeout=policy.connect_timeout,
                read_timeout=policy.read_timeout,  # a slow accept is not a failure
                write_timeout=policy.read_timeout,
            ),
            get_updates_request=_PollingRequest(connect_timeout=policy.connect_timeout),
            # max_retries=0: RetryAfter comes back to us and is waited out with our sleep.
            rate_limiter=AIORateLimiter(overall_max_rate=30, group_max_rate=20, max_retries=0),
        )
        self._app: _App = ApplicationBuilder().bot(bot).job_queue(None).build()
        self._app.add_handler(TypeHandler(Update, self._on_update))
        self._app.add_error_handler(self._on_error)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """getMe, start long polling and PTB's update processing, publish the command menu."""
        try:
            await self._app.initialize()
        except InvalidToken as exc:
            # PTB's message quotes the token; never let it reach a log or a traceback.
            # PTB maps 401 and 404 alike; only 401 means Telegram refused the token.
            cause = str(exc.__cause__ or "")
            if cause.startswith("Unauthorized"):
                raise StartupError("Telegram rejected the bot token ([telegram] token)") from None
            raise StartupError(
                "the Telegram Bot API answered 404 Not Found: check [telegram] api_base_url "
                "(it ends in /bot, e.g. https://api.telegram.org/bot) and the token's shape"
            ) from None
        except TelegramError as exc:
            # e.g. the API is unreachable; the URL in PTB's message carries the token
            raise StartupError(
                f"could not reach the Telegram Bot API ({type(exc).__name__}); "
                "check the network and [telegram] api_base_url"
            ) from None
        self.bot_username = self._app.bot.username
        updater = self._app.updater
        assert updater is not None  # the builder always makes one unless told not to
        try:
            await updater.start_polling(
                timeout=timedelta(seconds=self._poll_timeout),
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
                error_callback=self._on_polling_error,
            )
            await self._app.start()
        except BaseException:
            await self._shutdown()
            raise
        self._started = True
        _LOGGER.info("polling as @%s", self.bot_username, extra=log_fields("telegram"))
        await self._publish_commands()

    async def stop(self) -> None:
        """Stop polling, let PTB finish queued updates, close connections."""
        if not self._started:
            return
        self._started = False
        await self._shutdown()
        _LOGGER.info("stopped", extra=log_fields("telegram"))

    async def idle(self) -> None:
        """Wait until every reply handed to the reply lanes is sent or given up."""
        await self._replies.idle()

    async def _shutdown(self) -> None:
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        await self._replies.drain(timeout=self._policy.read_timeout)
        await self._app.shutdown()

    async def _publish_commands(self) -> None:
        commands = [BotCommand(name, text) for name, text in fmt.bot_commands(self._specs)]
        if not commands:
            return
        try:
            await self._app.bot.set_my_commands(commands)
        except TelegramError as exc:  # a menu is nice to have; the bot works without it
            _LOGGER.warning("setMyCommands failed: %s", exc, extra=log_fields("telegram"))

    def _on_polling_error(self, exc: TelegramError) -> None:
        if isinstance(exc, Conflict):
            _LOGGER.error(
                "another process is polling with this bot token; run one instance only",
                extra=log_fields("telegram"),
            )
        else:
            _LOGGER.warning("polling failed, retrying: %s", exc, extra=log_fields("telegram"))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        _LOGGER.error(
            "unhandled error in update processing",
            exc_info=context.error,
            extra=log_fields("telegram"),
        )

    # --- inbound -------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The single funnel for every update PTB receives."""
        if update.callback_query is not None:
            await self._on_button(update, update.callback_query)
        elif update.message is not None:
            await self._on_message(update, update.message)
        elif update.edited_message is not None:
            await self._on_edit(update, update.edited_message)

    async def _on_message(self, update: Update, message: Message) -> None:
        if message.migrate_to_chat_id is not None:  # service message in the old group
            await self._chat_migrated(str(message.chat.id), str(message.migrate_to_chat_id))
            return
        if message.migrate_from_chat_id is not None:  # service message in the supergroup
            await self._chat_migrated(str(message.migrate_from_chat_id), str(message.chat.id))
            return
        text = message.text or message.caption  # a photo's caption counts, as on Slack
        if message.from_user is None or not text:
            return
        if message.forward_origin is not None and not message.is_automatic_forward:
            # Someone else's words passed on: running them again would repeat a change
            # (or double a logged count) the original author already made.
            return
        chat = self._chat_ref(message)
        cmd = command_from_text(
            text,
            actor=self._sender(message, message.from_user),
            chat=chat,
            received_at=self._clock(),
            bot_username=self.bot_username,
            message_id=str(message.message_id),
        )
        if cmd is None:
            return
        self._gone.discard(chat.chat_id)  # a message proves we are in the chat again
        if not await self._admit(cmd):
            return
        if message.document is not None:
            attached = await self._attach(cmd, message)
            if isinstance(attached, str):  # the file could not be read: say why, run nothing
                if await self._seen.first_time(f"telegram:{update.update_id}"):
                    await self._deliver_quietly(Reply(text=attached, kind="error"), chat)
                return
            cmd = attached
        self._ran[_message_key(message)] = None
        if len(self._ran) > RAN_REMEMBERED:
            del self._ran[next(iter(self._ran))]
        await self._run(update, cmd)

    async def _on_edit(self, update: Update, message: Message) -> None:
        """An edited command is not run (its first version already was, was refused, or was
        chatter), but the person is told so: silence read as the correction having been made."""
        text = message.text or message.caption
        if message.from_user is None or not text:
            return
        cmd = command_from_text(
            text,
            actor=self._sender(message, message.from_user),
            chat=self._chat_ref(message),
            received_at=self._clock(),
            bot_username=self.bot_username,
            message_id=str(message.message_id),
        )
        if cmd is None or cmd.via == "hashtag" or not await self._admit(cmd):
            return
        if await self._seen.first_time(f"telegram:{update.update_id}"):
            # Not remembered (chatter, or sent before a restart): "ran nothing" is true of the
            # edit either way, and /undo is pointed to only where the first version ran.
            ran = _message_key(message) in self._ran
            notice = EDITED_COMMAND if ran else EDITED_INTO_COMMAND
            await self._deliver_quietly(Reply(text=notice, kind="notice"), cmd.chat)

    async def _attach(self, cmd: Command, message: Message) -> Command | str:
        """Download a document sent with a command (`/scorecard import` as its caption).

        A file over the Bot API's 20 MB download limit, or one that fails to download,
        gives the reason to tell the chat instead (the command would only ask for a file).
        """
        document = message.document
        if document is None:
            return cmd
        name = document.file_name or "file"
        if (document.file_size or 0) > MAX_DOWNLOAD:
            size = (document.file_size or 0) / 2**20
            return (
                f"{clip(name)} is too big ({size:.1f} MB): Telegram lets bots download files "
                f"of at most {MAX_DOWNLOAD // 2**20} MB; send a smaller file."
            )
        try:
            file = await document.get_file()
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            _LOGGER.warning(
                "could not download the attached file: %s",
                type(exc).__name__,
                extra=log_fields("telegram", cmd.chat.chat_id),
            )
            return f"I could not download {clip(name)} from Telegram; send it again."
        return cmd.model_copy(update={"attachment": Attachment(filename=name, data=data)})

    async def _on_button(self, update: Update, query: CallbackQuery) -> None:
        message = query.message
        if message is None or query.data is None:
            await self._answer(query, fmt.EXPIRED_BUTTON)
            return
        chat = self._chat_ref(message)
        text = fmt.resolve_callback(query.data, chat.chat_id, self._tokens)
        for old_id, new_id in self._migrated.items():
            if text is None and new_id == chat.chat_id:  # a button sent before the upgrade
                text = fmt.resolve_callback(query.data, old_id, self._tokens)
        cmd = None
        if text is not None:
            cmd = command_from_text(
                text,
                actor=self._actor(query.from_user),
                chat=chat,
                received_at=self._clock(),
                via="button",
                bot_username=self.bot_username,
                message_id=str(message.message_id),
            )
        if cmd is None:
            _LOGGER.info(
                "expired or unknown button pressed", extra=log_fields("telegram", chat.chat_id)
            )
            await self._answer(query, fmt.EXPIRED_BUTTON)
            return
        if chat.chat_id in self._allowed or not self._allowed:
            await self._answer(query, None)  # stop the spinner before the work
        else:
            await self._answer(query, NOT_ENABLED)
            return
        await self._run(update, cmd)

    async def _admit(self, cmd: Command) -> bool:
        """allowed_chats: other chats get one polite notice per process, then silence."""
        chat_id = cmd.chat.chat_id
        if not self._allowed or chat_id in self._allowed:
            return True
        if chat_id not in self._noticed:
            self._noticed.add(chat_id)
            log_command(_LOGGER, cmd, "ignoring chat not in allowed_chats", level=logging.WARNING)
            await self._deliver_quietly(Reply(text=NOT_ENABLED, kind="notice"), cmd.chat)
        return False

    async def _run(self, update: Update, cmd: Command) -> None:
        """Dispatch once per update id, then deliver the replies."""
        if not await self._seen.first_time(f"telegram:{update.update_id}"):
            log_command(_LOGGER, cmd, "skipping redelivered update %s", update.update_id)
            return
        log_command(_LOGGER, cmd)
        for reply, target in await dispatch_for(self._dispatch, cmd, self.platform, _LOGGER):
            await self._deliver_quietly(reply, target)

    async def _chat_migrated(self, old_id: str, new_id: str) -> None:
        """A group became a supergroup: send there from now on and move its scorecard.

        Telegram tells us up to three times (a service message in each chat, and
        ChatMigrated on a send to the old id); the move itself is idempotent.
        """
        if old_id == new_id:
            return
        fields = log_fields("telegram", old_id)
        if self._migrated.get(old_id) != new_id:
            _LOGGER.warning("group %s became supergroup %s", old_id, new_id, extra=fields)
        self._migrated[old_id] = new_id
        for older, target in list(self._migrated.items()):
            if target == old_id:  # migrated twice: follow the chain
                self._migrated[older] = new_id
        if old_id in self._allowed and new_id not in self._allowed:
            self._allowed = self._allowed | {new_id}
            _LOGGER.warning(
                "allowing supergroup %s for this run; replace %s by it in allowed_chats",
                new_id,
                old_id,
                extra=fields,
            )
        if self._on_chat_moved is None:
            return
        old = ChatRef(platform="telegram", chat_id=old_id)
        new = ChatRef(platform="telegram", chat_id=new_id)
        try:
            await self._on_chat_moved(old, new)
        except Exception:
            _LOGGER.exception("could not move the chat's data to its new id", extra=fields)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await self._app.bot.answer_callback_query(query.id, text=text)
        except TelegramError as exc:  # e.g. "query is too old": nothing useful to do
            _LOGGER.info("answerCallbackQuery failed: %s", exc, extra=log_fields("telegram"))

    @staticmethod
    def _chat_ref(message: MaybeInaccessibleMessage) -> ChatRef:
        # Only forum topics are threads we can post into; plain replies carry a thread id too.
        topic = isinstance(message, Message) and message.is_topic_message
        thread = message.message_thread_id if isinstance(message, Message) and topic else None
        return ChatRef(
            platform="telegram",
            chat_id=str(message.chat.id),
            thread_id=str(thread) if thread else None,
        )

    @classmethod
    def _sender(cls, message: Message, user: User) -> Actor:
        """Who to credit: a person, the group's anonymous admin, or a linked channel.

        Telegram sends both in the name of a placeholder user ("Group", "Telegram");
        `sender_chat` says who really posted.
        """
        posted_as = message.sender_chat
        if posted_as is None:
            return cls._actor(user)
        if posted_as.id == message.chat.id:
            name = "anonymous admin"
        else:
            name = posted_as.title or (f"@{posted_as.username}" if posted_as.username else "")
            name = name or "channel"
        return Actor(
            platform="telegram",
            user_id=str(posted_as.id),
            display_name=name,
            handle=f"@{posted_as.username}" if posted_as.username else None,
        )

    @staticmethod
    def _actor(user: User) -> Actor:
        return Actor(
            platform="telegram",
            user_id=str(user.id),
            display_name=user.full_name,
            handle=f"@{user.username}" if user.username else None,
        )

    # --- outbound ------------------------------------------------------------------------

    async def send(self, reply: Reply, skip: int = 0) -> None:
        """Deliver `reply` to `reply.to` (for the outbox), but its first `skip` messages;
        raises DeliveryError.

        One try per message on a 5xx or connection error: the outbox retries durably,
        with its own backoff. Short flood waits and the one resend of a message that may
        have arrived are handled here, under the same policy as replies.
        """
        if reply.to is None or reply.to.platform != self.platform:
            raise DeliveryError("reply has no Telegram destination", permanent=True)
        await self._deliver(reply, reply.to, attempts=1, skip=skip)

    async def _deliver_quietly(self, reply: Reply, target: ChatRef) -> None:
        """Answers to commands leave through the chat's reply lane, in the background.

        PTB handles updates one at a time, so a retry or flood wait here must not hold
        the other chats. A reply that still fails is logged; the user can ask again.
        """
        self._replies.submit(target.chat_id, self._reply(reply, target))

    async def _reply(self, reply: Reply, target: ChatRef) -> None:
        ready = await drawn(self._prepare, reply, _LOGGER, self.platform, target.chat_id)
        if ready is None:
            return
        try:
            await self._deliver(ready, target)
        except DeliveryError as exc:
            if await kept_for_later(self._later, exc, reply, target, _LOGGER, ready):
                return  # the outbox sends the messages that had not arrived
            _LOGGER.warning(
                "reply not delivered: %s", exc, extra=log_fields("telegram", target.chat_id)
            )

    async def _deliver(
        self, reply: Reply, target: ChatRef, attempts: int | None = None, skip: int = 0
    ) -> None:
        """Send `reply`'s messages from number `skip` on; a failure says how many arrived."""
        chat_id = self._migrated.get(target.chat_id, target.chat_id)
        if chat_id in self._gone:
            raise DeliveryError(f"bot was removed from chat {chat_id}", permanent=True)

        def data_for(command: str) -> str:
            return fmt.callback_data(command, chat_id, self._tokens)

        messages = fmt.render_reply(reply, data_for)
        for sent in range(skip, len(messages)):
            try:
                await send_retrying(
                    functools.partial(self._send_message, messages[sent], target),
                    self._policy,
                    self._sleep,
                    chat=chat_id,
                    attempts=attempts,
                )
            except DeliveryError as exc:
                exc.sent_parts = sent
                raise

    async def _send_message(self, message: fmt.OutMessage, target: ChatRef) -> None:
        """One try at one Telegram message, paced per chat; failures as DeliveryError.

        Refused HTML and a group upgrade change the request and send it again at once;
        every other failure is classified for the policy.
        """
        html = True
        chat_id = self._migrated.get(target.chat_id, target.chat_id)
        target = target.model_copy(update={"chat_id": chat_id})
        for _ in range(3):
            await self._pacer.wait(target.chat_id)
            try:
                await self._post(message, target, html=html)
                return
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                scope = "bot-wide" if self._pacer.flood(target.chat_id, wait) else "this chat"
                raise DeliveryError(
                    f"Telegram flood limit ({scope}): wait {wait:.0f} s",
                    permanent=False,
                    retry_after=wait,
                ) from None
            except ChatMigrated as exc:
                new_id = str(exc.new_chat_id)
                await self._chat_migrated(target.chat_id, new_id)
                target = target.model_copy(update={"chat_id": new_id})
            except Forbidden as exc:
                self._mark_gone(target.chat_id, exc)
                raise DeliveryError(f"forbidden: {exc.message}", permanent=True) from None
            except BadRequest as exc:
                text = exc.message.lower()
                if "can't parse entities" in text and html:
                    _LOGGER.error(
                        "Telegram refused our HTML, resending as plain text: %s",
                        exc.message,
                        extra=log_fields("telegram", target.chat_id),
                    )
                    html = False
                    continue
                if "chat not found" in text:
                    self._mark_gone(target.chat_id, exc)
                raise DeliveryError(f"bad request: {exc.message}", permanent=True) from None
            except InvalidToken:
                raise DeliveryError("bot token rejected", permanent=False) from None
            except NetworkError as exc:  # 5xx, timeouts, connection errors
                raise _network_error(exc) from None
        raise DeliveryError("could not send message", permanent=False)

    def _mark_gone(self, chat_id: str, exc: TelegramError) -> None:
        if chat_id not in self._gone:
            self._gone.add(chat_id)
            _LOGGER.warning(
                "cannot send to this chat any more (%s); not trying again until it writes",
                exc.message,
                extra=log_fields("telegram", chat_id),
            )

    async def _post(self, message: fmt.OutMessage, target: ChatRef, *, html: bool) -> None:
        bot = self._app.bot
        markup = _markup(message.keyboard)
        thread = (
            int(target.thread_id)
            if target.thread_id is not None and target.thread_id.isdigit()
            else None
        )
        chat = _chat_target(target.chat_id)
        parse_mode = ParseMode.HTML if html else None
        text = message.html if html else message.plain
        if message.document is not None or message.photo is not None:
            send_file = bot.send_document if message.document is not None else bot.send_photo
            await send_file(
                chat,
                message.document if message.document is not None else message.photo,
                caption=text or None,
                parse_mode=parse_mode,
                reply_markup=markup,
                message_thread_id=thread,
                filename=message.filename,
            )
        else:
            await bot.send_message(
                chat,
                text,
                parse_mode=parse_mode,
                reply_markup=markup,
                message_thread_id=thread,
                link_preview_options=_NO_PREVIEW,
            )


def _markup(keyboard: fmt.Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(k.label, callback_data=k.data) for k in row] for row in keyboard]
    )


# After these the request was written and the answer is missing: Telegram may have it.
_AFTER_WRITE = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def _network_error(exc: NetworkError) -> DeliveryError:
    """A 5xx or a connect failure was certainly not delivered; a lost answer may have been."""
    cause = exc.__cause__
    if isinstance(cause, _AFTER_WRITE):
        return DeliveryError(
            f"maybe delivered: no answer after sending ({type(cause).__name__})",
            permanent=False,
            maybe_delivered=True,
        )
    return DeliveryError(f"network: {exc.message}", permanent=False)


class _JsonBodies(httpx.AsyncClient):
    """PTB's HTTP client for sends: parameters without files go as one JSON body, which
    the Bot API takes like a form. Form-encoding quotes a 3 KB `/kpi` answer byte by byte
    in Python (~0.2 ms, and as much again to decode it at the other end); JSON is C."""

    def build_request(  # PTB passes keywords only
        self, method: str, url: httpx.URL | str, **kwargs: Any
    ) -> httpx.Request:
        if isinstance(kwargs.get("data"), dict) and not kwargs.get("files"):
            kwargs["json"] = kwargs.pop("data")
        return super().build_request(method, url, **kwargs)


class _SendRequest(HTTPXRequest):
    """PTB's request for everything but polling, sending JSON bodies (`_JsonBodies`)."""

    def _build_client(self) -> httpx.AsyncClient:
        return _JsonBodies(**self._client_kwargs)


class _PollingRequest(HTTPXRequest):
    """getUpdates' connection, keeping the last answer for `_Bot` to re-read if need be."""

    def __init__(self, connect_timeout: float) -> None:
        super().__init__(connection_pool_size=1, connect_timeout=connect_timeout)
        self.last_updates = b""

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        polling = url.endswith("/getUpdates")
        if polling:
            self.last_updates = b""  # never re-read an older batch after a failed call
        code, payload = await super().do_request(url, method, *args, **kwargs)
        if polling and 200 <= code <= 299:
            self.last_updates = payload
        return code, payload


class _Bot(ExtBot[int]):  # int: AIORateLimiter's per-call argument
    """PTB's bot, with every update it cannot read replaced by an empty one.

    PTB parses a whole getUpdates batch at once; one update it cannot read fails the
    batch (logging its content), the offset never moves past it and polling spins on
    it forever. Only then is the batch read again here, update by update: a bad one
    keeps only its update_id, so the offset advances, our handler ignores it, and one
    line without content says so. Readable batches are parsed once, by PTB.
    """

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise  # the request failed; the updater retries it
        except Exception:
            request = self._request[0]
            if not isinstance(request, _PollingRequest) or not request.last_updates:
                raise  # not a batch PTB could not read: no answer came
            return self._readable(request.last_updates)

    def _readable(self, payload: bytes) -> tuple[Update, ...]:
        updates: list[Update] = []
        for raw in json.loads(payload)["result"]:
            try:
                update = Update.de_json(raw, self)
            except Exception as exc:
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if not isinstance(update_id, int):
                    raise  # no id to step over; polling reports the batch
                _LOGGER.warning(
                    "skipped update %d that could not be read (%s)",
                    update_id,
                    type(exc).__name__,
                    extra=log_fields("telegram"),
                )
                update = Update(update_id)
                update.set_bot(self)
            updates.append(update)
        return tuple(updates)
