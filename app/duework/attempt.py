"""One go at a piece of due work, step by step.

A firing is a few independent steps (post in the channel, DM each manager, page the backup...).
Each step that succeeds is written down with the row, so a retry repeats only what failed; a step
that fails is reported once and, when it may succeed later, retried on its own. A failing step never
stops the others: a lookup that fails must not keep the essential post from going out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.duework.models import DueWork
from app.integrations.errors import IntegrationUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """Why a step failed: the error code, whether trying again later may help, and whether the
    step may have taken effect anyway (a timeout after the request left)."""

    error: str
    transient: bool
    unsure: bool = False


@dataclass(frozen=True)
class StepFailed:
    step: str
    problem: Problem

    @property
    def error(self) -> str:
        return self.problem.error


Classify = Callable[[BaseException], Problem | None]


def problem_of(error: BaseException, classify: Classify) -> Problem | None:
    """How a step failed: an integration says so itself (IntegrationUnavailable, the one error every tracker,
    status page and pager raises); anything else is `classify`'s to tell (the Slack adapter's: Slack's errors and
    broken connections). None: a bug, not an outage."""
    if isinstance(error, IntegrationUnavailable):
        return Problem(str(error), transient=error.transient, unsure=error.unsure)
    return classify(error)


class Attempt:
    """What earlier attempts at this row recorded, and what this one does."""

    def __init__(self, work: DueWork, classify: Classify, *, final: bool = False) -> None:
        self.work = work
        self.classify = classify
        self.final = final  # the last try for one-off work: a failure now is reported as given up
        self.recorded: dict[str, dict[str, Any]] = dict(work.steps or {})
        self.results: dict[str, Any] = {}
        self.failures: list[StepFailed] = []
        self._carried: dict[str, Any] = {}

    def done(self, step: str) -> Any:
        """What a step returned when it succeeded (in this attempt or an earlier one), else None."""
        if step in self.results:
            return self.results[step]
        entry = self.recorded.get(step) or {}
        return entry.get("result") if "result" in entry else None

    def may_have_run(self, step: str) -> bool:
        """An earlier attempt may have done this step without writing it down."""
        entry = self.recorded.get(step) or {}
        return "result" not in entry and (self.work.unsure or bool(entry.get("unsure")))

    async def once(self, step: str, call: Callable[[], Awaitable[T]],
                   recover: Callable[[], Awaitable[T | None]] | None = None, *,
                   retry: bool | None = None) -> T | None:
        """Run the step unless it is done already; `recover` finds its effect when an earlier attempt
        may have had it. Returns the step's result, or None when it failed (see `failures`).
        A failure makes the work come round again when it may pass later; `retry` overrides that:
        False for a step that does not matter enough, True for one the work cannot do without."""
        entry = self.recorded.get(step) or {}
        if step in self.results or "result" in entry:
            return self.done(step)
        try:
            if recover is not None and self.may_have_run(step):
                found = await recover()
                if found is not None:
                    log.warning("Due work %s: %r had already been done before an interruption; not repeating it",
                                self.work.id, step)
                    self.results[step] = found
                    return found
            result = await call()
        except Exception as error:  # classified below; anything unknown is a bug and goes up
            problem = problem_of(error, self.classify)
            if problem is None:
                raise
            if retry is not None:
                problem = Problem(problem.error, transient=retry, unsure=problem.unsure)
            self.failures.append(StepFailed(step, problem))
            return None
        self.results[step] = result
        return result

    def carried(self, name: str, default: Any) -> Any:
        """Something an earlier round left for this one (recurring work: reminders still to supersede)."""
        return (self.recorded.get(name) or {}).get("carry", default)

    def carry(self, name: str, value: Any) -> None:
        """Leave something for the next round of this work."""
        self._carried[name] = value

    def fail(self, step: str, problem: Problem) -> None:
        """Record a failure found without a call (a lookup answered 'not found', say)."""
        self.failures.append(StepFailed(step, problem))

    @property
    def retry(self) -> bool:
        """Some step failed in a way that may pass later."""
        return any(f.problem.transient for f in self.failures)

    def new_failures(self) -> list[StepFailed]:
        """Failures not reported before (each step's error is put on the timeline once)."""
        return [f for f in self.failures if (self.recorded.get(f.step) or {}).get("error") != f.error]

    def steps_to_keep(self) -> dict[str, dict[str, Any]]:
        """The row's step record after this attempt."""
        steps = dict(self.recorded)
        for step, result in self.results.items():
            steps[step] = {"result": result}
        for failure in self.failures:
            steps[failure.step] = {"error": failure.error, "unsure": failure.problem.unsure}
        for name, value in self._carried.items():
            steps[name] = {"carry": value}
        return steps
