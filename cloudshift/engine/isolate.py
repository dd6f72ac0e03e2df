"""Analyse files in worker processes, so that no single file can stop a run.

LibCST and tree-sitter are native code: a pathological file can crash the process (SIGSEGV),
exhaust its stack or run for minutes. Each worker holds one file at a time, so when a worker
dies or runs past the per-file timeout the file it held is known exactly: that file gets an
error naming the reason, the worker is replaced, and every other file is still analysed.
"""

from __future__ import annotations

import contextlib
import gc
import math
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import NamedTuple

from cloudshift.engine.pipeline import Engine
from cloudshift.model import FileError, FileResult, Safety

Task = tuple[str, str, Safety | None]  # the path as shown, the text, the fix level (None: scan)


class Settled(NamedTuple):
    """What became of one task: its index in the tasks, its result, and whether a worker finished it.

    `analysed` is False when the worker crashed or timed out: the result is an error that may not
    recur (a loaded machine, a killed process), so it must never be cached.
    """

    task: int
    result: FileResult
    analysed: bool


STOP_GRACE = 2.0  # seconds a worker gets to exit on its own at the end of a run
PARENT_CHECK = 1.0  # seconds between a worker's checks that the run it serves is still there


def analyse_isolated(engine: Engine, tasks: Sequence[Task], workers: int, timeout: float | None) -> Iterator[Settled]:
    """What became of every task, in the order they finish.

    `timeout` is per file, in seconds (None or 0: no limit). A file whose worker crashes or times
    out gets a FileResult whose error says so, and keeps its text unchanged.
    """
    if not tasks:
        return
    pool = _Pool(engine, tasks, timeout or math.inf)
    try:
        yield from pool.run(max(1, min(workers, len(tasks))))
    finally:
        pool.stop()


def _context() -> BaseContext:
    """fork where there is one: workers start at once, sharing the engine and project already built."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _Worker:
    """One worker process and the task it holds."""

    def __init__(self, context: BaseContext, engine: Engine) -> None:
        self.connection, child = context.Pipe()
        arguments = (child, engine, os.getpid())
        self.process: BaseProcess = context.Process(target=_serve, args=arguments, daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        child.close()
        self.task: int | None = None
        self.deadline = math.inf

    def give(self, index: int, task: Task, timeout: float) -> None:
        self.connection.send(task)
        self.task, self.deadline = index, time.monotonic() + timeout

    def take(self) -> FileResult | None:
        """The finished task's result, or None when the worker died before sending it whole."""
        try:
            result = self.connection.recv()
        except (EOFError, OSError, ValueError, TypeError, AttributeError):
            return None
        self.task, self.deadline = None, math.inf
        return result if isinstance(result, FileResult) else None

    def kill(self) -> str:
        """End the process now; how it ended, for the message (`SIGSEGV`, `exit code 1`, ...)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()
        code = self.process.exitcode or 0
        return _signal_name(-code) if code < 0 else f"exit code {code}"

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not in time."""
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(STOP_GRACE)
        self.kill()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Pool:
    """Hands tasks to workers one at a time and turns a dead or stuck worker into its file's error."""

    def __init__(self, engine: Engine, tasks: Sequence[Task], timeout: float) -> None:
        self.engine = engine
        self.tasks = tasks
        self.timeout = timeout
        self.context = _context()
        self.queue = deque(range(len(tasks)))
        self.workers: list[_Worker] = []

    def run(self, count: int) -> Iterator[Settled]:
        self.workers = [_Worker(self.context, self.engine) for _ in range(count)]
        for slot in range(count):
            self._feed(slot)
        while any(worker.task is not None for worker in self.workers):
            yield from self._collect()

    def _feed(self, slot: int) -> None:
        """Give the worker in `slot` the next task, replacing it first if it died between tasks."""
        if not self.queue:
            return
        index = self.queue.popleft()
        try:
            self.workers[slot].give(index, self.tasks[index], self.timeout)
        except OSError:
            self._restart(slot)
            self.workers[slot].give(index, self.tasks[index], self.timeout)

    def _collect(self) -> Iterator[Settled]:
        """Wait for the next worker to finish, die or time out; yield what that settles."""
        busy = [worker for worker in self.workers if worker.task is not None]
        deadline = min(worker.deadline for worker in busy)
        wait_for = None if deadline == math.inf else max(deadline - time.monotonic(), 0.0)
        ready = set(wait([w.connection for w in busy] + [w.process.sentinel for w in busy], wait_for))
        for slot, worker in enumerate(list(self.workers)):
            index = worker.task
            if index is None:
                continue
            if worker.connection in ready or worker.process.sentinel in ready:
                result = worker.take()
                settled = Settled(index, result, True) if result is not None else self._crashed(slot, index)
            elif time.monotonic() >= worker.deadline:
                self._restart(slot)
                why = f"the analysis took longer than the {self.timeout:g} s file timeout"
                settled = Settled(index, self._lost(index, why), False)
            else:
                continue
            yield settled
            self._feed(slot)

    def _restart(self, slot: int) -> str:
        """Kill the worker in `slot` and start a fresh one there; how the old one ended."""
        ended = self.workers[slot].kill()
        self.workers[slot] = _Worker(self.context, self.engine)
        return ended

    def _crashed(self, slot: int, index: int) -> Settled:
        return Settled(index, self._lost(index, f"the analysis crashed ({self._restart(slot)})"), False)

    def _lost(self, index: int, why: str) -> FileResult:
        shown, text, fix = self.tasks[index]
        error = FileError(shown, f"{why}; file left unchanged (other files were still analysed)")
        return FileResult(shown, errors=(error,), source=text, fixed_source=text if fix else None)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.task is None:
                worker.stop()
            else:
                worker.kill()


def _serve(connection: Connection, engine: Engine, parent: int) -> None:
    """A worker: analyse one task at a time until told to stop (None) or the parent goes away.

    The cyclic garbage collector runs only between files, and then over what the file just
    made: a worker keeps the summaries and answers of the whole project, and the full
    collections Python starts on its own walked all of them again and again (two thirds of a
    scan of mlflow's 1,315 files went to them).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    gc.disable()
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        shown, text, fix = task
        connection.send(engine.check_source(shown, text, fix=fix))
        gc.collect(1)  # the young generations: this file's garbage; what survives is left alone


def _exit_with(parent: int) -> None:
    """End this worker as soon as its parent is gone (killed run): never go on analysing for no one."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(1)
