"""Webhook delivery as Telegram does it, to one URL or to several in turn (a load balancer).

What Telegram's own Bot API server does (tdlib/telegram-bot-api, WebhookActor), and so this:

- every update is POSTed as JSON, with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was
  set, and counts as delivered only on a 2xx answer;
- any other answer (5xx and 4xx alike), a refused or broken connection and a timeout are
  errors: the update is sent again, the first time at once, then after 2, 4, 8 … ``first_delay``
  up to ``max_delay`` (a ``Retry-After`` header replaces the delay); it is dropped when it
  would be resent after its lifetime (a day at Telegram), so a bot answering 403 is not
  asked forever;
- a 410 Gone answered for ``gone_timeout`` (23 hours at Telegram) removes the webhook;
- the updates of one chat go one at a time and in order; different chats go side by side,
  at most ``max_connections`` (setWebhook, 1-100, default 40) at once;
- every error is kept for getWebhookInfo's ``last_error_date`` and ``last_error_message``.

The emulator-side setting ``set_webhook_targets([...])`` stands for a load balancer in front
of several bot processes: each delivery goes to the next target in turn, and a target that
refused a connection, timed out or answered 5xx is skipped for ``target_pause`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
from collections import Counter, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from botapi_emulator.records import JSON, update_allowed

if TYPE_CHECKING:
    from botapi_emulator.state import EmulatorState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookPolicy:
    """Timing of webhook delivery; the defaults are Telegram's, tests pass short ones."""

    timeout: float = 60.0  # seconds to wait for an answer before the connection is closed
    first_delay: float = 1.0  # the second resend waits 2 × this, then 4 ×, 8 × …
    max_delay: float = 60.0
    lifetime: float = 86_400.0  # an update not delivered by then is dropped
    target_pause: float = 10.0  # a target that failed is skipped this long (several targets)
    gone_timeout: float = 23 * 3600.0  # 410 Gone for this long removes the webhook
    # False: setWebhook is stored (getUpdates refused, getWebhookInfo answered) but nothing
    # is posted; for tests that post updates themselves (a wrong secret, a resend by hand)
    deliver: bool = True


@dataclass
class WebhookConfig:
    """What setWebhook stored."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40


@dataclass
class WebhookAttempt:
    """One POST of one update: where, the HTTP status (0: no answer) and the error if any."""

    update_id: int
    url: str
    status: int
    error: str | None
    started: float  # the event loop's time
    ended: float

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status <= 299


@dataclass
class _Delivery:
    """An update on its way: its chat's queue, its retry state and its deadline."""

    update: JSON
    key: str
    expires_at: float
    repeat: bool = False
    fail_count: int = 0
    step: float = 0.0
    wakeup_at: float = 0.0

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _Target:
    url: str
    down_until: float = 0.0


@dataclass
class _Outcome:
    status: int
    error: str | None
    retry_after: float = 0.0
    target_failed: bool = False


def queue_key(update: JSON) -> str:
    """The chat (or user) whose updates must arrive in order; unrelated updates get their own."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat")
        if chat is None and isinstance(payload.get("message"), dict):
            chat = payload["message"].get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return f"chat:{chat['id']}"
        sender = payload.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return f"user:{sender['id']}"
    return f"update:{update['update_id']}"


class WebhookDelivery:
    """Pushes the emulator's pending updates to the webhook; one per emulator."""

    def __init__(self, state: EmulatorState, policy: WebhookPolicy | None = None) -> None:
        self.state = state
        self.policy = policy or WebhookPolicy()
        self.config: WebhookConfig | None = None
        self.attempts: list[WebhookAttempt] = []
        self.delivered: Counter[int] = Counter()  # update_id -> 2xx answers
        self.dropped: list[int] = []
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._targets: list[_Target] = []
        self._next_target = 0
        self._queues: dict[str, deque[_Delivery]] = {}
        self._ready: list[tuple[float, int, str]] = []  # (wakeup_at, seq, queue key) heap
        self._seq = itertools.count()
        self._ingested_upto = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._first_410: float | None = None

    # ----- settings ------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """True while a webhook is set (getUpdates is refused then)."""
        return self.config is not None

    def set_targets(self, urls: list[str] | tuple[str, ...] | None) -> None:
        """Deliver to these URLs in turn instead of the setWebhook URL (None: that URL again)."""
        self._targets = [_Target(u) for u in urls or ()]
        self._next_target = 0
        self.kick()

    @property
    def targets(self) -> list[str]:
        """The URLs updates go to: the emulator-side targets, else the setWebhook URL."""
        if self._targets:
            return [t.url for t in self._targets]
        return [self.config.url] if self.config is not None else []

    def set(self, config: WebhookConfig) -> None:
        """Store a webhook (setWebhook) and start delivering."""
        self.config = config
        self._first_410 = None
        self.kick()

    def delete(self) -> None:
        """Remove the webhook (deleteWebhook); deliveries under way end on their own."""
        self.config = None
        self._forget_queues()
        if self._wake is not None:
            self._wake.set()

    def drop_pending(self) -> None:
        """Forget every pending update (drop_pending_updates=True)."""
        self.state._updates.clear()
        self.state._repeats.clear()
        self._forget_queues()

    def _forget_queues(self) -> None:
        """Forget the delivery queues; a later setWebhook queues what is still pending anew."""
        self._queues.clear()
        self._ready.clear()
        self._ingested_upto = 0

    def info(self) -> JSON:
        """The WebhookInfo object."""
        cfg = self.config
        result: JSON = {
            "url": cfg.url if cfg is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state._updates) + len(self.state._repeats),
        }
        if cfg is not None:
            result["max_connections"] = cfg.max_connections
            if self.state.allowed_updates is not None:
                result["allowed_updates"] = list(self.state.allowed_updates)
        if self.last_error_date is not None:
            result["last_error_date"] = self.last_error_date
            result["last_error_message"] = self.last_error_message
        return result

    # ----- the delivery loop ---------------------------------------------------------------

    def kick(self) -> None:
        """Wake the delivery loop (new updates, a new setting); starts it when needed."""
        if self.config is None or not self.policy.deliver:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run(), name="webhook-delivery")
        self._wake.set()

    async def stop(self) -> None:
        """Stop delivering and close the HTTP client (the emulator's stop)."""
        tasks = [t for t in (self._runner, *self._in_flight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._runner = None
        self._in_flight.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while self.config is not None:
            self._wake.clear()
            self._ingest(loop.time())
            next_wakeup = self._dispatch(loop.time())
            timeout = None if next_wakeup is None else max(0.0, next_wakeup - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _ingest(self, now: float) -> None:
        """Queue every update enqueued since the last look, per chat, in update_id order."""
        state = self.state
        if state.last_update_id > self._ingested_upto:
            fresh: list[JSON] = []
            for update_id in reversed(state._updates):
                if update_id <= self._ingested_upto:
                    break
                fresh.append(state._updates[update_id])
            for update in reversed(fresh):
                if update_allowed(update, state.allowed_updates):
                    self._add(_Delivery(update, queue_key(update), now + self.policy.lifetime),
                              now)
                else:
                    del state._updates[int(update["update_id"])]
            self._ingested_upto = state.last_update_id
        while state._repeats:
            update = state._repeats.pop(0)
            self._add(_Delivery(update, queue_key(update), now + self.policy.lifetime,
                                repeat=True), now)

    def _add(self, delivery: _Delivery, now: float) -> None:
        queue = self._queues.setdefault(delivery.key, deque())
        queue.append(delivery)
        if len(queue) == 1:
            delivery.wakeup_at = now
            heapq.heappush(self._ready, (now, next(self._seq), delivery.key))

    def _dispatch(self, now: float) -> float | None:
        """Start what may go now; return when the next waiting update may go (None: nothing)."""
        cfg = self.config
        if cfg is None or not self.targets:
            return None
        while self._ready and len(self._in_flight) < cfg.max_connections:
            wakeup_at, _seq, key = self._ready[0]
            if wakeup_at > now:
                return wakeup_at
            heapq.heappop(self._ready)
            queue = self._queues.get(key)
            if not queue:
                continue
            task = asyncio.get_running_loop().create_task(self._deliver(queue[0]))
            self._in_flight.add(task)
        return None

    def _pick_target(self, now: float) -> _Target:
        targets = self._targets or [_Target(self.config.url if self.config else "")]
        count = len(targets)
        for i in range(count):
            target = targets[(self._next_target + i) % count]
            if target.down_until <= now:
                self._next_target = (self._next_target + i + 1) % count
                return target
        target = min(targets, key=lambda t: t.down_until)  # all failed lately: try the first back
        self._next_target = (targets.index(target) + 1) % count
        return target

    async def _deliver(self, delivery: _Delivery) -> None:
        try:
            await self._attempt(delivery)
        finally:  # out of the count before the loop looks again
            task = asyncio.current_task()
            if task is not None:
                self._in_flight.discard(task)
            self.state._notify()
            if self._wake is not None:
                self._wake.set()

    async def _attempt(self, delivery: _Delivery) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        target = self._pick_target(started)
        outcome = await self._post(target.url, delivery.update)
        now = loop.time()
        self.attempts.append(WebhookAttempt(delivery.update_id, target.url, outcome.status,
                                            outcome.error, started, now))
        if outcome.target_failed and len(self._targets) > 1:
            target.down_until = now + self.policy.target_pause
        if outcome.error is None:
            self._on_ok(delivery, now)
        else:
            self._on_error(delivery, outcome, now)

    async def _post(self, url: str, update: JSON) -> _Outcome:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, force_close=False))
        headers = {"Content-Type": "application/json"}
        secret = self.config.secret_token if self.config is not None else None
        if secret:
            headers[SECRET_HEADER] = secret
        body = json.dumps(update, ensure_ascii=False).encode()
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        try:
            async with self._session.post(url, data=body, headers=headers,
                                          timeout=timeout) as response:
                await response.read()
                if 200 <= response.status <= 299:
                    return _Outcome(response.status, None)
                return _Outcome(
                    response.status,
                    f"Wrong response from the webhook: {response.status} {response.reason}",
                    retry_after=_retry_after(response.headers.get("Retry-After")),
                    target_failed=response.status >= 500)
        except TimeoutError:
            return _Outcome(0, "Read timeout expired", target_failed=True)
        except aiohttp.ClientConnectorError:
            return _Outcome(0, "Connection refused", target_failed=True)
        except (aiohttp.ClientError, OSError):
            return _Outcome(0, "Webhook connection closed", target_failed=True)

    def _on_ok(self, delivery: _Delivery, now: float) -> None:
        self._first_410 = None
        self.delivered[delivery.update_id] += 1
        self.state._webhook_acked.add(delivery.update_id)
        if not delivery.repeat:
            self.state._updates.pop(delivery.update_id, None)
        self._next_in_queue(delivery, now)

    def _on_error(self, delivery: _Delivery, outcome: _Outcome, now: float) -> None:
        self.last_error_date = int(self.state.clock())
        self.last_error_message = outcome.error
        if outcome.status == 410:
            self._first_410 = now if self._first_410 is None else self._first_410
            if now - self._first_410 > self.policy.gone_timeout:
                self.delete()
                return
        elif outcome.status != 0:
            self._first_410 = None
        queue = self._queues.get(delivery.key)
        if not queue or queue[0] is not delivery:
            return  # the webhook was deleted or the updates dropped meanwhile
        # Telegram: the first resend at once, then the delay doubles up to the maximum
        if delivery.fail_count == 0:
            delay = 0.0
            delivery.step = self.policy.first_delay
        else:
            delivery.step = min(self.policy.max_delay, delivery.step * 2)
            delay = delivery.step
        if outcome.retry_after:
            delay = min(outcome.retry_after, 3600.0)
        delivery.fail_count += 1
        if now + delay > delivery.expires_at:
            self.dropped.append(delivery.update_id)
            if not delivery.repeat:
                self.state._updates.pop(delivery.update_id, None)
            self._next_in_queue(delivery, now)
            return
        delivery.wakeup_at = now + delay
        heapq.heappush(self._ready, (delivery.wakeup_at, next(self._seq), delivery.key))

    def _next_in_queue(self, delivery: _Delivery, now: float) -> None:
        queue = self._queues.get(delivery.key)
        if not queue or queue[0] is not delivery:
            return
        queue.popleft()
        if queue:
            queue[0].wakeup_at = now
            heapq.heappush(self._ready, (now, next(self._seq), delivery.key))
        else:
            del self._queues[delivery.key]

    # ----- readers -------------------------------------------------------------------------

    def attempts_for(self, update_id: int) -> list[WebhookAttempt]:
        """Every POST of one update, in the order they ended."""
        return [a for a in list(self.attempts) if a.update_id == update_id]

    def by_target(self) -> Counter[str]:
        """Updates answered 2xx per target URL."""
        return Counter(a.url for a in list(self.attempts) if a.ok)


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
