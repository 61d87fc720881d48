"""Fixtures of the Python package's tests: a Keystack project in a private
temporary folder (its own HOME and data folder), the `keystack` binary to
set it up, and the emulators `cargo xtask test` starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest


def keystack_binary() -> str:
    found = os.environ.get("KEYSTACK_BIN") or shutil.which("keystack")
    if not found:
        raise RuntimeError(
            "set KEYSTACK_BIN to the keystack binary (`cargo xtask test` does)"
        )
    return found


def _foreign(key: str) -> bool:
    """A variable of the machine's own Keystack or ZenML set-up, which must
    not reach the tests' projects (the emulators' and the binary's stay)."""
    if key.startswith(("KEYSTACK_TEST_", "KEYSTACK_BIN")):
        return False
    return key.startswith(("KEYSTACK_", "ZENML_", "XDG_"))


class Project:
    """A project folder, with the environment its commands and steps see."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env: Dict[str, str] = {
            key: value for key, value in os.environ.items() if not _foreign(key)
        }
        self.env.update(
            HOME=str(root / "home"),
            KEYSTACK_DATA_DIR=str(root / "data"),
            KEYSTACK_NO_ARGV_WARNING="1",
            NO_COLOR="1",
        )
        (root / "home").mkdir(mode=0o700)

    def ks(self, *args: str, check: bool = True, stdin: Optional[str] = None,
           env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        """Runs `keystack ARGS` in the project."""
        result = subprocess.run(
            [keystack_binary(), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"keystack {' '.join(args)} failed ({result.returncode}): {result.stderr}"
            )
        return result

    def activate(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Makes this process a step of the project: its folder, its variables."""
        monkeypatch.chdir(self.root)
        for key in list(os.environ):
            if _foreign(key):
                monkeypatch.delenv(key)
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)

    def remote_stack(self, manager_args: List[str], name: str = "remote") -> None:
        """A secrets manager from `manager_args` and an active stack on it."""
        self.ks("secrets-manager", "register", f"{name}_sm", *manager_args)
        self.ks("stack", "register", name, "-o", "default", "-a", "default",
                "-x", f"{name}_sm", "--set")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """An initialised project on the local store, and this process in it."""
    root = tmp_path / "project"
    root.mkdir(mode=0o700)
    tmp_path.chmod(0o700)
    p = Project(root)
    p.ks("init")
    p.activate(monkeypatch)
    yield p


def emulator(var: str) -> str:
    value = os.environ.get(var, "")
    if not value:
        pytest.skip(f"{var} is not set (`cargo xtask test` starts the emulator and sets it)")
    return value


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


#: How each emulated backend is registered as a secrets manager.
def backend_args(backend: str) -> List[str]:
    if backend == "aws":
        return ["--flavor=aws", "--region_name=us-east-1",
                f"--endpoint_url={emulator('KEYSTACK_TEST_AWS_ENDPOINT')}",
                f"--namespace={unique('py')}"]
    if backend == "gcp":
        return ["--flavor=gcp", f"--project_id={unique('py-')}",
                f"--endpoint={emulator('KEYSTACK_TEST_GCP_ENDPOINT')}",
                "--namespace=py"]
    if backend == "vault":
        emulator("KEYSTACK_TEST_VAULT_TOKEN")
        return ["--flavor=vault", f"--url={emulator('KEYSTACK_TEST_VAULT_ADDR')}",
                f"--namespace={unique('py')}"]
    if backend == "azure":
        return ["--flavor=azure", f"--vault_url={emulator('KEYSTACK_TEST_AZURE_VAULT_URL')}",
                f"--ca_file={emulator('KEYSTACK_TEST_AZURE_CA')}",
                "--verify_challenge_resource=false", f"--namespace={unique('py')}"]
    raise ValueError(backend)
