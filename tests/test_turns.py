"""SQLite's writers take turns (app/turns.py): one at a time, those a sender waits for before background
work, each kind in arrival order; a writer that gives up waiting never holds up the next, and a transaction
opened inside its own task's does not wait for itself."""

from __future__ import annotations

import asyncio
import contextlib

from app.turns import Turns, before_answer


class Writers:
    """Writers queued behind one that holds the turn until `release` is set; `order` is who wrote when."""

    def __init__(self) -> None:
        self.turns = Turns()
        self.order: list[str] = []
        self.release = asyncio.Event()
        self.holder = asyncio.ensure_future(self.write("holder", until=self.release))

    async def write(self, name: str, *, until: asyncio.Event | None = None) -> None:
        async with self.turns.turn():
            self.order.append(name)
            if until is not None:
                await until.wait()
            await asyncio.sleep(0)  # a write takes a moment

    def queue(self, name: str, answered: asyncio.Event | None = None) -> asyncio.Future[None]:
        with before_answer(answered) if answered is not None else contextlib.nullcontext():
            return asyncio.ensure_future(self.write(name))  # the task copies the context


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_writers_a_sender_waits_for_go_first_then_the_rest_each_in_arrival_order() -> None:
    writers = Writers()
    await settle()
    unanswered = asyncio.Event()
    queued = [writers.queue("sweep"), writers.queue("alert 1", unanswered), writers.queue("setup"),
              writers.queue("alert 2", unanswered)]
    await settle()
    assert writers.order == ["holder"]  # one writer at a time

    writers.release.set()
    await asyncio.gather(writers.holder, *queued)
    assert writers.order == ["holder", "alert 1", "alert 2", "sweep", "setup"]


async def test_work_a_request_started_waits_as_background_once_its_answer_has_gone_out() -> None:
    writers = Writers()
    await settle()
    answered = asyncio.Event()
    follow_up = writers.queue("its channel's setup", answered)  # started while its sender waited
    answered.set()  # the answer went out
    later = writers.queue("another alert", asyncio.Event())
    await settle()

    writers.release.set()
    await asyncio.gather(writers.holder, follow_up, later)
    assert writers.order == ["holder", "another alert", "its channel's setup"]


async def test_a_writer_that_gives_up_waiting_does_not_hold_up_the_next() -> None:
    writers = Writers()
    await settle()
    gives_up, next_one = writers.queue("gives up"), writers.queue("next")
    await settle()
    gives_up.cancel()
    await settle()

    writers.release.set()
    await asyncio.gather(writers.holder, next_one)
    assert gives_up.cancelled() and writers.order == ["holder", "next"]


async def test_a_writer_cancelled_as_it_is_handed_the_turn_hands_it_on() -> None:
    turns = Turns()
    order: list[str] = []
    release = asyncio.Event()

    async def write(name: str) -> None:
        async with turns.turn():
            order.append(name)

    async def holder() -> None:
        async with turns.turn():
            await release.wait()
        handed.cancel()  # it was handed the turn just now, and has not run yet

    holding = asyncio.ensure_future(holder())
    await settle()
    handed, next_one = asyncio.ensure_future(write("handed")), asyncio.ensure_future(write("next"))
    await settle()

    release.set()
    async with asyncio.timeout(5):
        await asyncio.gather(holding, next_one)
    assert handed.cancelled() and order == ["next"]


async def test_a_transaction_inside_its_own_task_s_does_not_wait_for_itself() -> None:
    turns = Turns()
    async with asyncio.timeout(5), turns.turn(), turns.turn():
        inside = True
    assert inside
