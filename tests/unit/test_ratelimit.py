"""The Pacer rate limiter on a fake clock: spacing, priority, per-chat order and 429s."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram.error import BadRequest, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from medlofte_bot.chat.ratelimit import Pacer, Result, chat_key, is_paced


class FakeTime:
    """Virtual time: sleepers wake in order of their wake time, without real waiting.

    A sleep registers its wake time; a driver lets every runnable task run, then moves the
    clock to the earliest wake time and wakes that sleeper (a cancelled sleep is skipped).
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, delay), next(self._seq), fut))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive())
        await fut

    async def _drive(self) -> None:
        while self._sleepers:
            for _ in range(50):  # let every task that can run do so before time moves
                await asyncio.sleep(0)
            wake, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                self.now = max(self.now, wake)
                fut.set_result(None)


class Recorder:
    """A fake Bot API: records (label, time) of every call it answers."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[tuple[str, float]] = []
        self.fail: dict[str, list[Exception]] = {}
        self.latency = 0.0

    async def __call__(self, _endpoint: str, data: dict[str, Any], **_: Any) -> Result:
        label = str(data["label"])
        self.calls.append((label, self.time.now))
        if self.latency:
            await self.time.sleep(self.latency)
        errors = self.fail.get(label)
        if errors:
            raise errors.pop(0)
        return True

    def labels(self) -> list[str]:
        return [label for label, _ in self.calls]

    def times(self) -> list[float]:
        return [round(at, 6) for _, at in self.calls]


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns unless time periods (RetryAfter.retry_after) are timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api(clock: FakeTime) -> Recorder:
    return Recorder(clock)


def make_pacer(clock: FakeTime, **kwargs: Any) -> Pacer:
    return Pacer(monotonic=clock.monotonic, sleep=clock.sleep, **kwargs)


def send(pacer: Pacer, api: Recorder, chat: int | str | None, label: str, bulk: bool = False,
         endpoint: str = "sendMessage") -> Awaitable[Result]:
    data: dict[str, Any] = {"chat_id": chat, "label": label, "text": label}
    rl: dict[str, object] | None = {"priority": "bulk"} if bulk else None
    return pacer.process_request(api, (endpoint, data), {}, endpoint, data, rl)


async def run(*requests: Awaitable[Any]) -> list[Any]:
    """All requests at once; a deadlock fails the test instead of hanging it."""
    return await asyncio.wait_for(asyncio.gather(*requests, return_exceptions=True), 5.0)


async def test_messages_to_one_private_chat_are_spaced_by_the_private_gap(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    await run(*(send(pacer, api, 5, f"m{i}") for i in range(3)))
    assert api.labels() == ["m0", "m1", "m2"]
    assert api.times() == [0.0, 1.05, 2.1]


async def test_messages_to_a_group_or_channel_name_are_spaced_by_the_group_gap(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    await run(send(pacer, api, -100, "g0"), send(pacer, api, "@Grannar", "c0"),
              send(pacer, api, -100, "g1"), send(pacer, api, "@grannar", "c1"))
    at = dict(api.calls)
    assert at["g1"] - at["g0"] == pytest.approx(3.05)
    assert at["c1"] - at["c0"] == pytest.approx(3.05)  # "@Grannar" and "@grannar": one chat


def test_chat_ids_given_as_text_are_read_as_numbers_or_usernames() -> None:
    assert chat_key("42") == 42 and chat_key("-1001") == -1001 and chat_key(7) == 7
    assert chat_key("@Grannar") == "@grannar" and chat_key(None) is None


async def test_a_numeric_string_chat_id_is_the_same_private_chat_as_the_int(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    await run(send(pacer, api, 42, "a"), send(pacer, api, "42", "b"))
    assert api.times() == [0.0, 1.05]


async def test_messages_to_different_chats_are_spaced_by_the_global_gap(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock, per_second=10)
    await run(*(send(pacer, api, chat, f"c{chat}") for chat in range(1, 6)))
    assert api.labels() == ["c1", "c2", "c3", "c4", "c5"]
    assert api.times() == [0.0, 0.1, 0.2, 0.3, 0.4]


async def test_zero_gaps_switch_pacing_off(clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock, per_second=0, private_gap=0, group_gap=0)
    await run(*(send(pacer, api, chat, f"m{i}") for i, chat in enumerate([1, 1, -2, -2])))
    assert api.labels() == ["m0", "m1", "m2", "m3"] and api.times() == [0.0] * 4


async def test_an_interactive_request_overtakes_bulk_requests_waiting_for_the_global_slot(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock, per_second=1)

    async def answer_later() -> None:
        await clock.sleep(0.5)
        await send(pacer, api, 99, "answer")

    await run(*(send(pacer, api, chat, f"bulk{chat}", bulk=True) for chat in range(1, 6)),
              answer_later())
    assert api.labels() == ["bulk1", "answer", "bulk2", "bulk3", "bulk4", "bulk5"]
    assert api.times() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


async def test_a_bulk_request_goes_when_no_interactive_one_can(
        clock: FakeTime, api: Recorder) -> None:
    """An interactive request held back by its own chat's gap does not block bulk ones."""
    pacer = make_pacer(clock, per_second=10)
    await run(send(pacer, api, 1, "answer1"), send(pacer, api, 1, "answer2"),
              send(pacer, api, 2, "bulk", bulk=True))
    assert api.labels() == ["answer1", "bulk", "answer2"]
    assert api.times() == [0.0, 0.1, 1.05]


async def test_messages_to_one_chat_keep_their_order_whatever_their_priority(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock, per_second=100)
    await run(send(pacer, api, 7, "bulk0", bulk=True), send(pacer, api, 7, "bulk1", bulk=True),
              *(send(pacer, api, 7, f"answer{i}") for i in range(4)),
              *(send(pacer, api, chat, f"other{chat}", bulk=True) for chat in range(10, 14)))
    in_chat = [label for label in api.labels() if not label.startswith("other")]
    assert in_chat == ["bulk0", "bulk1", "answer0", "answer1", "answer2", "answer3"]


async def test_a_chat_gets_its_next_message_only_after_the_previous_one_was_answered(
        clock: FakeTime, api: Recorder) -> None:
    """Order holds even with the gaps switched off and a slow Bot API."""
    pacer = make_pacer(clock, per_second=0, private_gap=0, group_gap=0)
    api.latency = 0.5
    await run(*(send(pacer, api, 5, f"m{i}") for i in range(3)), send(pacer, api, 6, "other"))
    assert api.calls == [("m0", 0.0), ("other", 0.0), ("m1", 0.5), ("m2", 1.0)]


@pytest.mark.parametrize("timedelta", [True, False])
async def test_a_429_is_waited_out_and_the_request_tried_again(
        clock: FakeTime, api: Recorder, monkeypatch: pytest.MonkeyPatch, timedelta: bool) -> None:
    """RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA=true, else an int (PTB warns)."""
    monkeypatch.setenv("PTB_TIMEDELTA", str(timedelta).lower())
    pacer = make_pacer(clock)
    with contextlib.nullcontext() if timedelta else pytest.warns(PTBDeprecationWarning):
        api.fail["m"] = [RetryAfter(2)]
        [result] = await run(send(pacer, api, 5, "m"))
    assert result is True
    assert api.calls == [("m", 0.0), ("m", 2.0)]
    assert pacer.stats["retry_after"] == 1 and pacer.stats["gave_up"] == 0


async def test_a_429_holds_back_every_chat_until_retry_after_has_passed(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock, per_second=10)
    api.fail["first"] = [RetryAfter(2)]
    await run(send(pacer, api, 1, "first"), send(pacer, api, 2, "second"))
    assert api.calls == [("first", 0.0), ("first", 2.0), ("second", 2.1)]


async def test_the_429_is_raised_after_max_retries_and_the_chat_is_free_again(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock, max_retries=2)
    api.fail["doomed"] = [RetryAfter(2) for _ in range(5)]
    results = await run(send(pacer, api, 5, "doomed"), send(pacer, api, 5, "next"))
    assert isinstance(results[0], RetryAfter) and results[1] is True
    assert api.calls == [("doomed", 0.0), ("doomed", 2.0), ("doomed", 4.0), ("next", 6.0)]
    assert pacer.stats["retry_after"] == 3 and pacer.stats["gave_up"] == 1


async def test_rate_limit_args_may_lower_the_retries_of_one_request(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    api.fail["chart"] = [RetryAfter(1), RetryAfter(1)]
    data: dict[str, Any] = {"chat_id": 5, "label": "chart"}
    rl: dict[str, object] = {"priority": "bulk", "max_retries": 1}
    with pytest.raises(RetryAfter):
        await pacer.process_request(api, ("sendPhoto", data), {}, "sendPhoto", data, rl)
    assert len(api.calls) == 2


async def test_other_errors_reach_the_caller_at_once_and_free_the_chat(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    api.fail["bad"] = [BadRequest("message is too long")]
    results = await run(send(pacer, api, 5, "bad"), send(pacer, api, 5, "good"))
    assert isinstance(results[0], BadRequest) and results[1] is True
    assert api.calls == [("bad", 0.0), ("good", 1.05)]
    assert pacer.stats["retry_after"] == 0


async def test_calls_that_send_nothing_into_a_chat_are_not_delayed(
        clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    queued = [send(pacer, api, 5, f"m{i}") for i in range(3)]
    other = [send(pacer, api, 5, f"x-{endpoint}", endpoint=endpoint) for endpoint in
             ("getMe", "answerCallbackQuery", "setMyCommands", "sendChatAction", "getChat")]
    await run(*queued, *other)
    assert {label: at for label, at in api.calls if label.startswith("x-")} == {
        "x-getMe": 0.0, "x-answerCallbackQuery": 0.0, "x-setMyCommands": 0.0,
        "x-sendChatAction": 0.0, "x-getChat": 0.0}
    assert pacer.stats == {"paced": 3, "unpaced": 5, "retry_after": 0, "gave_up": 0}


def test_only_methods_that_put_or_change_a_message_in_a_chat_are_paced() -> None:
    paced = ["sendMessage", "sendPhoto", "sendMediaGroup", "editMessageText",
             "editMessageReplyMarkup", "copyMessage", "forwardMessages", "stopPoll"]
    unpaced = ["getMe", "getUpdates", "answerCallbackQuery", "setMyCommands", "sendChatAction",
               "deleteMessage", "getFile"]
    assert [e for e in paced if not is_paced(e)] == []
    assert [e for e in unpaced if is_paced(e)] == []


async def test_a_cancelled_request_gives_up_its_place(clock: FakeTime, api: Recorder) -> None:
    pacer = make_pacer(clock)
    first = asyncio.ensure_future(send(pacer, api, 5, "first"))
    doomed = asyncio.ensure_future(send(pacer, api, 5, "cancelled"))
    last = asyncio.ensure_future(send(pacer, api, 5, "last"))
    await asyncio.sleep(0)
    doomed.cancel()
    await run(first, last)
    assert api.calls == [("first", 0.0), ("last", 1.05)]


class LateArrivals(Recorder):
    """A fake Bot API that some requests reach late (a busy loop, a slow network): it
    records each call when it arrives."""

    def __init__(self, time: FakeTime, delays: dict[str, float]) -> None:
        super().__init__(time)
        self.delays = delays

    async def __call__(self, _endpoint: str, data: dict[str, Any], **_: Any) -> Result:
        await self.time.sleep(self.delays.get(str(data["label"]), 0.0))
        return await super().__call__(_endpoint, data)


async def test_a_message_that_reaches_telegram_late_still_leaves_its_chat_a_full_second(
        clock: FakeTime) -> None:
    pacer = make_pacer(clock)
    api = LateArrivals(clock, {"m0": 0.5})
    await run(send(pacer, api, 5, "m0"), send(pacer, api, 5, "m1"), send(pacer, api, 5, "m2"))
    arrived = api.times()
    assert arrived[1] - arrived[0] >= 1.0  # 0.55 before: a 429 from Telegram
    assert arrived[2] - arrived[1] == pytest.approx(1.05)  # on time: the usual gap
