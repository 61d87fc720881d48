"""Ten threads at once on one context, and a forked child that keeps
working (multiprocessing, DataLoader workers)."""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time

import keystack


def test_ten_threads_read_at_once(project):
    manager = keystack.StepContext.from_env().stack.secrets_manager
    for i in range(10):
        manager.register_secret(f"s{i}", {"k": f"value-{i}"})
    results = {}
    errors = []
    start = threading.Barrier(10)

    def read(i: int) -> None:
        try:
            start.wait()
            for _ in range(20):
                got = manager.get_secret(f"s{i}").get("k")
                assert got == f"value-{i}", got
            results[i] = keystack.resolve(f"{{{{s{i}.k}}}}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert results == {i: f"value-{i}" for i in range(10)}


def _child(queue) -> None:
    manager = CONTEXT.stack.secrets_manager
    queue.put((manager.get_secret("forked").get("k"), keystack.resolve("{{forked.k}}")))
    manager.register_secret("from_child", {"k": "c"})


CONTEXT = None


def test_a_forked_child_keeps_working(project):
    global CONTEXT
    CONTEXT = keystack.StepContext.from_env()
    manager = CONTEXT.stack.secrets_manager
    manager.register_secret("forked", {"k": "parent-made"})
    assert manager.get_secret("forked").get("k") == "parent-made"  # runtime and store opened
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    child = fork.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
    assert queue.get(timeout=5) == ("parent-made", "parent-made")
    # The parent still works, and sees what the child wrote.
    assert manager.get_secret("from_child").get("k") == "c"


def test_os_fork_child_reads(project):
    manager = keystack.StepContext.from_env().stack.secrets_manager
    manager.register_secret("osfork", {"k": "v"})
    manager.get_secret("osfork")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.write(write, manager.get_secret("osfork").get("k").encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert os.read(read, 100) == b"v"


def test_the_gil_is_released_while_a_backend_answers(project, monkeypatch):
    """A Vault that accepts connections and never answers: while one thread
    waits on it, another thread keeps running Python code."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    monkeypatch.setenv("VAULT_TOKEN", "any")
    project.remote_stack(["--flavor=vault", f"--url=http://127.0.0.1:{port}",
                          "--timeout_seconds=2", "--max_attempts=1"])
    manager = keystack.StepContext.from_env().stack.secrets_manager
    outcome = []

    def wait_for_the_silent_server() -> None:
        try:
            manager.get_secret("x")
        except keystack.Unavailable as e:
            outcome.append(e)

    waiting = threading.Thread(target=wait_for_the_silent_server)
    # The window is fixed before the thread starts: a thread that held the
    # GIL through its wait would leave this loop no time at all.
    counted, until = 0, time.monotonic() + 1.0
    waiting.start()
    while time.monotonic() < until:
        counted += 1
    still_waiting = waiting.is_alive()
    waiting.join(timeout=30)
    silent.close()
    assert still_waiting, "the loop ran while the read was waiting"
    assert outcome, "the read timed out with Unavailable"
    # Python counts millions of times in a second; a held GIL would stop
    # this loop within the first few milliseconds.
    assert counted > 1_000_000, counted
