"""Draft the next chunk's handoff answers in another process while this one writes.

Drafting costs about half a millisecond per deal with notes, as much as writing the
deal's rows; on a machine with two cores or more the two overlap. The pool is a spawned
process (never a fork of a process that holds database connections and threads) that
imports only the pure drafter. Small runs draft inline: a spawned process costs more
than it saves below a few chunks.
"""

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from rapport.imports.models import ImportRow
from rapport.onboarding.drafting import answers_draft_many
from rapport.onboarding.questions import Draft, Question

# Below this many rows to write, drafting stays in the writing process.
POOL_MIN_ROWS = 6_000

Deals = list[tuple[int, Sequence[Question], str]]
Drafted = dict[int, dict[str, Draft]]


class DraftingPipeline:
    """Hand out each chunk's drafts, computed in a second process when that pays."""

    def __init__(self, rows_to_write: int) -> None:
        self.pool: Executor | None = None
        if rows_to_write >= POOL_MIN_ROWS and (os.cpu_count() or 1) > 1:
            self.pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )

    def submit(self, deals: Deals) -> "Future[Drafted]":
        """Start drafting *deals*; the future's result is their drafts by row id."""
        if self.pool is None or not deals:
            future: Future[Drafted] = Future()
            future.set_result(answers_draft_many(deals))
            return future
        return self.pool.submit(answers_draft_many, deals)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def deals_of(rows: Sequence[ImportRow], questions: Mapping[int, Sequence[Question]]) -> Deals:
    """Return the deals of *rows* that have notes, with their template's questions."""
    return [
        (row.pk, questions[row.values["template_id"]], row.values["notes"])
        for row in rows
        if (row.values.get("notes") or "").strip()
    ]
