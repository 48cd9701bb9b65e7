"""Check many files, in worker processes when there are several, with results in the order of the targets.

Workers are forked from the checker (or spawned where fork is unavailable) and import only the static engine:
no torch, no user code. One file's failure never stops the run: an exception becomes an internal-error message
naming the file, and a worker that dies outright (a crash in C code, the OOM killer) costs only the files it was
checking, which are retried one at a time so that the culprit is named.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tllint import REPOSITORY_URL
from tllint.settings import MAX_FILE_SIZE
from tllint.static import prefilter
from tllint.static.cache import Cache
from tllint.static.notebook import is_notebook
from tllint.static.outcome import FileOutcome
from tllint.static.prefilter import too_large
from tllint.static.reading import TooLarge, read_limited
from tllint.static.rules.parse_error import PARSE_ERROR

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future, ProcessPoolExecutor

# The engine (parser, pass, rules), the pool and multiprocessing are imported on first use: a run whose files all
# come from the cache (pre-commit on unchanged files) then starts in a fraction of the time.


@dataclass(frozen=True)
class Job:
    """One file to check: where it is, how to show it, the codes enabled for it and the largest size to read."""

    path: Path
    display: str
    codes: frozenset[str]
    max_size: int = MAX_FILE_SIZE


def default_jobs() -> int:
    """The CPUs this process may run on (which can be fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_one(job: Job, cache: Cache | None) -> FileOutcome:
    """Read the bytes once (a regular file, up to the size limit), then check them."""
    try:
        data = read_limited(job.path, job.max_size)
    except TooLarge as error:
        findings = [too_large(job.display, error.size, job.max_size)] if PARSE_ERROR.code in job.codes else []
        return FileOutcome(findings)
    except (OSError, ValueError) as error:
        return FileOutcome(problems=[f"{job.display}: cannot read: {getattr(error, 'strerror', None) or error}"],
                           unread=True)
    return check_bytes(data, job.display, job.codes, cache, job.path)


def check_bytes(data: bytes, display: str, codes: frozenset[str], cache: Cache | None = None,
                path: Path | None = None) -> FileOutcome:
    """Decide from the bytes when they hold no training code, else answer from the cache when it has them (under
    `path`), else check and remember. A bug in tllint costs this file, not the run."""
    outcome = FileOutcome()
    key = ""
    try:
        skipped = prefilter.skip_reason(data, codes, is_notebook(display))
        if skipped is not None:
            return FileOutcome(skipped=skipped)
        if cache is not None and path is not None:
            key = cache.key(data, codes)
            hit = cache.load(path, key, display)
            if hit is not None:
                return FileOutcome(hit)
        from tllint.static import engine

        outcome = engine.check_source(data, display, codes)
    except Exception as error:
        outcome.internal_error(display, "", error)
        return outcome
    if cache is not None and path is not None and not outcome.problems:
        cache.store(path, key, outcome.findings)
    return outcome


def _check_chunk(jobs: Sequence[Job], cache: Cache | None) -> list[FileOutcome]:
    return [check_one(job, cache) for job in jobs]


def check_all(jobs: Sequence[Job], cache: Cache | None, workers: int,
              progress: Callable[[int], None] | None = None) -> list[FileOutcome]:
    """FileOutcomes in the order of `jobs`; in this process when one worker would do."""
    workers = min(workers, len(jobs))
    if workers <= 1:
        outcomes = []
        for job in jobs:
            outcomes.append(check_one(job, cache))
            if progress is not None:
                progress(1)
        return outcomes
    import tllint.static.engine  # noqa: F401  (imported once here, inherited by every forked worker)

    return _Pool(jobs, cache, workers, progress).run()


class _Pool:
    """Small chunks (a few files) balance big files against small ones; results are put back in place."""

    def __init__(self, jobs: Sequence[Job], cache: Cache | None, workers: int,
                 progress: Callable[[int], None] | None) -> None:
        self.jobs, self.cache, self.workers, self.progress = jobs, cache, workers, progress
        self.outcomes: list[FileOutcome] = [FileOutcome()] * len(jobs)

    def run(self) -> list[FileOutcome]:
        size = max(1, min(8, len(self.jobs) // (self.workers * 16)))
        queue = [list(range(start, min(start + size, len(self.jobs)))) for start in range(0, len(self.jobs), size)]
        while queue:
            queue, lost = self._round(queue)
            self._blame(lost)
        return self.outcomes

    def _round(self, queue: list[list[int]]) -> tuple[list[list[int]], list[int]]:
        """Run chunks until done or until a worker dies; then return the chunks not yet started and the files
        that were in flight."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        lost: list[int] = []
        queue = list(reversed(queue))
        with _interruptible(_pool(self.workers)) as pool:
            pending: dict[Future[list[FileOutcome]], list[int]] = {}
            while (queue and not lost) or pending:
                while queue and not lost and len(pending) < self.workers * 4:
                    chunk = queue.pop()
                    pending[pool.submit(_check_chunk, [self.jobs[i] for i in chunk], self.cache)] = chunk
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = pending.pop(future)
                    try:
                        self._place(chunk, future.result())
                    except BrokenProcessPool:
                        lost.extend(chunk)
        return list(reversed(queue)), sorted(lost)

    def _blame(self, lost: list[int]) -> None:
        """Retry the files a dead worker held, alone in a one-worker pool each, so that a second death names its
        file; the others are checked normally."""
        from concurrent.futures.process import BrokenProcessPool

        for index in lost:
            job = self.jobs[index]
            with _interruptible(_pool(1)) as pool:
                try:
                    self._place([index], pool.submit(_check_chunk, [job], self.cache).result())
                except BrokenProcessPool:
                    self._place([index], [FileOutcome(problems=[
                        f"{job.display}: internal error: the worker process checking this file died (a bug in "
                        f"tllint or the system ran out of memory: please report it with this file at "
                        f"{REPOSITORY_URL}/issues)"])])

    def _place(self, chunk: list[int], results: list[FileOutcome]) -> None:
        for index, outcome in zip(chunk, results, strict=True):
            self.outcomes[index] = outcome
        if self.progress is not None:
            self.progress(len(chunk))


def _pool(workers: int) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=_context(), initializer=_ignore_interrupts)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the checker, which stops them: no traceback from an idle worker."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _interruptible(pool: ProcessPoolExecutor) -> Iterator[ProcessPoolExecutor]:
    """The pool, shut down on the way out; on Ctrl-C without waiting for its work: queued chunks are dropped and
    running workers stopped, so that the checker exits at once (with 130)."""
    interrupted = False
    try:
        yield pool
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if interrupted:
            import multiprocessing

            pool.shutdown(wait=False, cancel_futures=True)
            for worker in multiprocessing.active_children():
                worker.terminate()
        else:
            pool.shutdown()


def _context() -> multiprocessing.context.BaseContext:
    """Fork where it is safe and cheap (Linux: the parent holds no threads), else spawn."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
