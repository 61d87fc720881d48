"""Benchmarks of the keystack Python package, run by `cargo xtask bench`
(group `python`) in the package's virtualenv, in a project folder whose
default local store xtask seeded with SECRETS secrets (`bench-00000`…, keys
k0…k3). Prints markdown rows: | what | median | calls |.

- `import keystack` in a fresh interpreter (median over runs);
- `get_secret` on that store, after the context is open (median of
  batches of 200 gets, per get);
- `keystack.resolve` of a dict of 200 references to 50 secrets in OpenBao
  behind a proxy that holds every request for 50 ms (the latency of a
  distant service), median over runs; the proxy counts the requests.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid


def import_time(runs: int) -> float:
    code = ("import time; t = time.perf_counter(); import keystack; "
            "print(time.perf_counter() - t)")
    times = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, check=True)
        times.append(float(out.stdout))
    return statistics.median(times[1:])


def get_time(secrets: int, runs: int) -> float:
    import keystack

    manager = keystack.StepContext.from_env().stack.secrets_manager
    name = f"bench-{secrets // 2:05}"
    assert manager.get_secret(name).get("k0") is not None
    per_get = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(200):
            manager.get_secret(name)
        per_get.append((time.perf_counter() - started) / 200)
    return statistics.median(per_get)


class SlowProxy:
    """Forwards TCP to `upstream`, holding each chunk a client sends for
    `latency` seconds; counts HTTP requests (request lines)."""

    def __init__(self, upstream: tuple, latency: float) -> None:
        self.upstream, self.latency, self.requests = upstream, latency, 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source, sink, requests: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if requests:
                    with self.lock:
                        self.requests += sum(
                            data.count(f"{m} /".encode()) for m in ("GET", "POST", "PUT", "LIST", "DELETE")
                        )
                    time.sleep(self.latency)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def resolve_time(keystack_bin: str, runs: int) -> tuple:
    import keystack

    addr = os.environ["KEYSTACK_TEST_VAULT_ADDR"]
    host, port = addr.rsplit("//", 1)[1].split(":")
    proxy = SlowProxy((host, int(port)), 0.05)
    namespace = f"pybench{uuid.uuid4().hex[:8]}"

    def ks(*args: str) -> None:
        subprocess.run([keystack_bin, *args], check=True, capture_output=True)

    ks("secrets-manager", "register", "slow", "--flavor=vault",
       f"--url=http://127.0.0.1:{proxy.port}", f"--namespace={namespace}")
    ks("stack", "register", "slow", "-o", "default", "-a", "default", "-x", "slow")
    os.environ["KEYSTACK_STACK"] = "slow"
    manager = keystack.StepContext.from_env().stack.secrets_manager
    for i in range(50):
        manager.register_secret(f"s{i:02}", {f"k{k}": f"v{i}-{k}" for k in range(4)})
    settings = {f"a{i}": f"{{{{s{i % 50:02}.k{i // 50}}}}}" for i in range(200)}
    times, requests = [], 0
    for _ in range(runs + 1):
        before = proxy.requests
        started = time.perf_counter()
        resolved = keystack.resolve(settings)
        times.append(time.perf_counter() - started)
        requests = proxy.requests - before
    assert resolved["a7"] == "v7-0"
    del os.environ["KEYSTACK_STACK"]
    return statistics.median(times[1:]), requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keystack", required=True)
    parser.add_argument("--secrets", type=int, required=True)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    print("| python | median | calls |")
    print("|---|---|---|")
    print(f"| `import keystack` | {import_time(args.runs) * 1000:.1f} ms | |")
    per_get = get_time(args.secrets, args.runs)
    print(f"| `get_secret`, {args.secrets:,} secrets stored (local) | {per_get * 1000:.3f} ms | |")
    if os.environ.get("KEYSTACK_TEST_VAULT_ADDR"):
        took, requests = resolve_time(args.keystack, args.runs)
        print(f"| `keystack.resolve`, 200 refs / 50 secrets, OpenBao + 50 ms per request | "
              f"{took * 1000:.1f} ms | {requests} HTTP requests |")
    else:
        print("| `keystack.resolve` (OpenBao) | skipped: KEYSTACK_TEST_VAULT_ADDR is not set | |")


if __name__ == "__main__":
    main()
