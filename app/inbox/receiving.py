"""Writing declarations down as they are received: a group commit.

Declarations that arrive while one batch is being written wait and are written together in the next
transaction. A burst of fifty costs a handful of transactions instead of fifty, and each declaration is
durable moments after the person has been answered "Declaring…", well before its incident is stored."""

from __future__ import annotations

import asyncio
from datetime import datetime

from app.db import Database
from app.inbox.service import receive_declarations


class _Batch:
    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []
        self.written: asyncio.Future[list[int]] | None = None


class DeclarationsReceived:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._next: _Batch | None = None  # still taking rows: not being written yet
        self._one_at_a_time = asyncio.Lock()

    async def write(self, *, declared_by: str, channel_id: str | None, text: str, response_url: str | None,
                    now: datetime) -> int:
        """Write one received declaration down (with those received meanwhile); returns its number."""
        batch = self._next
        if batch is None:
            batch = self._next = _Batch()
            batch.written = asyncio.ensure_future(self._write(batch))
        assert batch.written is not None
        index = len(batch.rows)
        batch.rows.append({"received_at": now, "declared_by": declared_by, "channel_id": channel_id, "text": text,
                           "response_url": response_url})
        return (await asyncio.shield(batch.written))[index]

    async def _write(self, batch: _Batch) -> list[int]:
        async with self._one_at_a_time:  # the batch after this one fills up while this one is written
            if self._next is batch:
                self._next = None
            async with self.db.transaction() as session:
                return await receive_declarations(session, batch.rows)
