"""`.env` files and shell lines, checked with python-dotenv and a POSIX
shell: `secret register --from-dotenv` stores what python-dotenv reads;
`secret get -o dotenv` is read back alike by python-dotenv and `sh`;
`secret get -o env` by `eval`; keys that cannot be variables are refused."""

from __future__ import annotations

import json
import subprocess
import sys

import dotenv

TRICKY = {
    "PLAIN": "value",
    "SPACED": "with  spaces",
    "MULTI": "first line\nsecond line",
    "QUOTE": "it's",
    "BACKSLASH": "a\\b\\\\c",
    "BOTH": "say \"hi\" it's \\ fine",
    "DOLLAR": "$HOME and $PATH",
    "HASH": "#not-a-comment",
    "UNICODE": "ünïcødé ✓",
    "EMPTY": "",
}

ENV_FILE = """# written by hand, as people write them
PLAIN=value
export SPACED='with  spaces'
MULTI="first line
second line"
QUOTE="it's"
BACKSLASH='a\\\\b\\\\\\\\c'
BOTH="say \\"hi\\" it's \\\\ fine"
DOLLAR='$HOME and $PATH'
HASH='#not-a-comment'
UNICODE=ünïcødé ✓   # a comment
EMPTY=
"""


def stored(project, name):
    return json.loads(project.ks("secrets-manager", "secret", "get", name, "-o", "json").stdout)


def read_with_sh(project, path, keys):
    script = ("set -a; . \"$1\"; set +a; exec \"$2\" -c "
              "'import json, os, sys; print(json.dumps({k: os.environ[k] for k in sys.argv[1:]}))' "
              + " ".join(keys))
    done = subprocess.run(["sh", "-c", script, "sh", str(path), sys.executable],
                          capture_output=True, text=True, cwd=project.root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_register_from_a_dotenv_file_stores_what_python_dotenv_reads(project):
    path = project.root / "app.env"
    path.write_text(ENV_FILE)
    assert dotenv.dotenv_values(path, interpolate=False) == TRICKY, "the file says what it means"
    project.ks("secrets-manager", "secret", "register", "app", "--from-dotenv", str(path))
    assert stored(project, "app") == TRICKY
    # From standard input too, beside --KEY=VALUE.
    project.ks("secrets-manager", "secret", "register", "piped", "--from-dotenv", "-",
               "--EXTRA=1", stdin="A=1\nB='two'\n")
    assert stored(project, "piped") == {"A": "1", "B": "two", "EXTRA": "1"}


def test_a_bad_dotenv_file_is_refused_by_line_and_stores_nothing(project):
    for text, says in [
        ("A=1\nnot a pair\n", "line 2: expected KEY=VALUE"),
        ("A=1\nB='never closed\n", "line 2"),
        ("A=1\nA=2\n", "also set on line 1"),
        ("U=${HOME}/x\n", "expands"),
        ("Q='${HOME}'\n", "expands"),
        ("# only a comment\n", "sets no KEY=VALUE"),
        ("bad key=1\n", "cannot be a secret key"),
    ]:
        path = project.root / "bad.env"
        path.write_text(text)
        done = project.ks("secrets-manager", "secret", "register", "bad", "--from-dotenv",
                          str(path), check=False)
        assert done.returncode == 2, (text, done.stderr)
        assert says in done.stderr, (text, done.stderr)
    assert "bad" not in project.ks("secrets-manager", "secret", "list").stdout


def test_get_dotenv_reads_back_alike_in_python_dotenv_and_sh(project):
    manager_args = [f"--{k}={v}" for k, v in TRICKY.items()]
    project.ks("secrets-manager", "secret", "register", "app", *manager_args)
    out = project.ks("secrets-manager", "secret", "get", "app", "-o", "dotenv").stdout
    path = project.root / "out.env"
    path.write_text(out)
    assert dotenv.dotenv_values(path) == TRICKY, out  # interpolation on, as by default
    assert read_with_sh(project, path, TRICKY) == TRICKY, out


def test_get_env_is_eval_safe_for_every_value(project):
    values = dict(TRICKY, ODD="it's `date` $(id) $HOME '\\''")
    project.ks("secrets-manager", "secret", "register", "app",
               *[f"--{k}={v}" for k, v in values.items()])
    out = project.ks("secrets-manager", "secret", "get", "app", "-o", "env").stdout
    path = project.root / "out.sh"
    path.write_text(out)
    assert read_with_sh(project, path, values) == values, out


def test_keys_that_cannot_be_variables_are_refused_by_name(project):
    project.ks("secrets-manager", "secret", "register", "odd",
               "--my-key=v", "--a.b=w", "--fine=x")
    for form in ["env", "dotenv"]:
        done = project.ks("secrets-manager", "secret", "get", "odd", "-o", form, check=False)
        assert done.returncode == 2 and done.stdout == ""
        assert "'a.b', 'my-key'" in done.stderr, done.stderr
        assert "v" not in done.stderr.split("key(s)")[1].split("cannot")[0]


def test_a_value_no_dotenv_line_can_hold_is_refused_by_key(project):
    project.ks("secrets-manager", "secret", "register", "s", "--tricky=it's $HOME",
               "--braces=${HOME}", "--ok=1")
    done = project.ks("secrets-manager", "secret", "get", "s", "-o", "dotenv", check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "'braces', 'tricky'" in done.stderr and "$HOME" not in done.stderr
    assert project.ks("secrets-manager", "secret", "get", "s", "-o", "env").returncode == 0
