"""Every exception type, its base classes and the command line's message."""

from __future__ import annotations

import pytest

import keystack


def manager():
    return keystack.StepContext.from_env().stack.secrets_manager


def test_secret_not_found_is_a_key_error_with_the_message(project):
    with pytest.raises(KeyError) as caught:
        manager().get_secret("nope")
    assert isinstance(caught.value, keystack.SecretNotFound)
    assert isinstance(caught.value, keystack.KeystackError)
    assert str(caught.value) == "secret 'nope' does not exist"
    manager().register_secret("s", {"k": "v"})
    with pytest.raises(keystack.SecretNotFound, match="has no key 'other'"):
        manager().get_secret("s")["other"]
    with pytest.raises(keystack.SecretNotFound):
        manager().delete_secret("nope")
    with pytest.raises(keystack.SecretNotFound):
        keystack.resolve("{{nope.k}}")


def test_secret_exists(project):
    manager().register_secret("s", {"k": "v"})
    with pytest.raises(keystack.SecretExists, match="already exists"):
        manager().register_secret("s", {"k": "other"})
    assert manager().get_secret("s").content == {"k": "v"}, "nothing was overwritten"


def test_invalid_name_is_a_value_error(project):
    for bad in ["has space", "", "a/b"]:
        with pytest.raises(ValueError) as caught:
            manager().get_secret(bad)
        assert isinstance(caught.value, keystack.InvalidName), bad
    with pytest.raises(keystack.InvalidName):
        manager().register_secret("ok", {"bad key": "v"})
    with pytest.raises(keystack.InvalidName, match="not closed"):
        keystack.resolve("{{unclosed")


def test_invalid_input(project):
    with pytest.raises(keystack.InvalidInput, match="schema"):
        manager().register_secret("s", {"k": "v"}, schema="nonsense")
    with pytest.raises(keystack.InvalidInput, match="aws_secret_access_key"):
        manager().register_secret("s", {"aws_access_key_id": "a"}, schema="aws")


def test_not_found_for_stacks_and_managers(project, monkeypatch):
    monkeypatch.setenv("KEYSTACK_STACK", "no_such_stack")
    with pytest.raises(keystack.NotFound, match="no_such_stack"):
        keystack.StepContext.from_env()
    monkeypatch.delenv("KEYSTACK_STACK")
    project.ks("stack", "register", "bare", "-o", "default", "-a", "default", "--set")
    with pytest.raises(keystack.NotFound, match="no secrets manager"):
        keystack.StepContext.from_env().stack.secrets_manager


def test_not_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for key in ["KEYSTACK_CONFIG_DIR", "KEYSTACK_STACK"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("KEYSTACK_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(keystack.KeystackError, match="keystack init"):
        keystack.StepContext.from_env()


def test_permission_denied_for_a_project_others_can_change(project):
    (project.root / ".keystack").chmod(0o777)
    try:
        with pytest.raises(keystack.PermissionDenied, match="chmod"):
            keystack.StepContext.from_env()
    finally:
        (project.root / ".keystack").chmod(0o700)


def test_unavailable_when_the_store_is_locked(project, monkeypatch):
    manager().register_secret("s", {"k": "v"})
    monkeypatch.setenv("KEYSTACK_LOCAL_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    with pytest.raises(keystack.KeystackError) as caught:
        manager().get_secret("s")
    assert isinstance(caught.value, (keystack.Unavailable, keystack.PermissionDenied)), caught.value


def test_unavailable_when_nothing_listens(project, monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "any")
    project.remote_stack(["--flavor=vault", "--url=http://127.0.0.1:9", "--max_attempts=1"])
    with pytest.raises(keystack.Unavailable) as caught:
        keystack.StepContext.from_env().stack.secrets_manager.get_secret("x")
    assert "127.0.0.1:9" in str(caught.value)
