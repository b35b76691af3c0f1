"""The floor one update at a time holds (chat/updates.Ramp): a burst is handled one after
another, while an update that waits on something slow holds nobody up past ``stall``."""

from __future__ import annotations

import asyncio
import time

import pytest

from medlofte_bot.chat.updates import Ramp


async def test_quick_updates_run_one_after_another_in_the_order_they_came() -> None:
    ramp = Ramp(stall=5.0)
    log: list[str] = []

    async def work(name: str) -> None:
        log.append(f"{name} starts")
        await asyncio.sleep(0.01)  # quick, but it yields: another could start meanwhile
        log.append(f"{name} ends")

    await asyncio.gather(*(ramp.run(work(name)) for name in "abc"))
    assert log == ["a starts", "a ends", "b starts", "b ends", "c starts", "c ends"]


async def test_an_update_that_waits_past_stall_lets_the_next_start_beside_it() -> None:
    ramp = Ramp(stall=0.05)
    slow_may_end = asyncio.Event()
    started: dict[str, float] = {}

    async def slow() -> None:
        started["slow"] = time.monotonic()
        await slow_may_end.wait()  # a paced send, a locked database ...

    async def quick() -> None:
        started["quick"] = time.monotonic()
        slow_may_end.set()

    slow_task = asyncio.ensure_future(ramp.run(slow()))
    await asyncio.sleep(0)
    await asyncio.wait_for(ramp.run(quick()), 2)  # would hang if slow kept the floor
    await asyncio.wait_for(slow_task, 2)
    waited = started["quick"] - started["slow"]
    assert 0.04 <= waited < 1.0, waited


async def test_a_failed_or_cancelled_update_passes_the_floor_on() -> None:
    ramp = Ramp(stall=5.0)

    async def broken() -> None:
        raise ValueError("handler failed")

    async def stuck() -> None:
        await asyncio.sleep(10)

    with pytest.raises(ValueError, match="handler failed"):
        await ramp.run(broken())
    task = asyncio.ensure_future(ramp.run(stuck()))
    await asyncio.sleep(0.01)
    task.cancel()
    ran = asyncio.Event()

    async def after() -> None:
        ran.set()

    await asyncio.wait_for(ramp.run(after()), 1)  # long before stall: the floor was passed on
    assert ran.is_set()
