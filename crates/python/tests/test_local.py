"""The API on the default local store: the guide's step access, writes,
components, resolution and validation."""

from __future__ import annotations

import os
import stat

import pytest

import keystack


def test_the_guides_step_access(project):
    project.ks("secrets-manager", "secret", "register", "mlflow_secret",
               "--username=admin", "--password=hunter22")
    context = keystack.StepContext.from_env()
    assert context.stack.name == "default"
    retrieved_secret = context.stack.secrets_manager.get_secret("mlflow_secret")
    assert retrieved_secret.content == {"username": "admin", "password": "hunter22"}
    assert retrieved_secret.name == "mlflow_secret"
    assert retrieved_secret.schema == "arbitrary"
    assert retrieved_secret.get("password") == "hunter22"
    assert retrieved_secret.get("missing") is None
    assert retrieved_secret.get("missing", "d") == "d"
    assert retrieved_secret["username"] == "admin"
    assert "username" in retrieved_secret and len(retrieved_secret) == 2
    assert retrieved_secret.keys() == ["password", "username"]


def test_register_update_list_delete_are_seen_by_the_command_line(project):
    manager = keystack.StepContext.from_env().stack.secrets_manager
    made = manager.register_secret("db", {"user": "ana", "password": "p-1"})
    assert made.content == {"user": "ana", "password": "p-1"}
    manager.register_secret("aws_creds", {"aws_access_key_id": "AKIA1",
                                          "aws_secret_access_key": "s3cr3t"}, schema="aws")
    shown = project.ks("secrets-manager", "secret", "get", "db", "-o", "json")
    assert '"password": "p-1"' in shown.stdout
    updated = manager.update_secret("db", set={"password": "p-2", "host": "h"}, remove=["user"])
    assert updated.content == {"password": "p-2", "host": "h"}
    assert manager.get_secret("aws_creds").schema == "aws"
    assert manager.list_secret_names() == ["aws_creds", "db"]
    manager.delete_secret("db")
    assert manager.list_secret_names() == ["aws_creds"]
    assert "db" not in project.ks("secrets-manager", "secret", "list").stdout


def test_the_store_is_the_command_lines_own(project):
    """The package writes where `keystack` reads, with the same modes."""
    keystack.StepContext.from_env().stack.secrets_manager.register_secret("s", {"k": "v1"})
    store = project.ks("secrets-manager", "describe", "default").stdout
    assert "store:" in store
    folder = store.split("store:")[1].split()[0]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_components_as_written_and_resolved(project):
    project.ks("secrets-manager", "secret", "register", "mlflow_secret",
               "--username=admin", "--password=pw-42")
    project.ks("experiment-tracker", "register", "mlflow", "--flavor=mlflow",
               "--tracking_uri=http://mlflow:5000",
               "--tracking_username={{mlflow_secret.username}}",
               "--tracking_password={{mlflow_secret.password}}")
    project.ks("stack", "update", "default", "-e", "mlflow")
    stack = keystack.StepContext.from_env().stack
    written = {c.type: c for c in stack.components}
    tracker = written["experiment_tracker"]
    assert tracker.name == "mlflow" and tracker.flavor == "mlflow" and not tracker.resolved
    assert tracker.attributes["tracking_password"] == "{{mlflow_secret.password}}"
    resolved = {c.type: c for c in stack.resolve()}["experiment_tracker"]
    assert resolved.resolved
    assert resolved.attributes["tracking_password"] == "pw-42"
    assert resolved.get("tracking_username") == "admin"
    assert resolved.get("nothing", "x") == "x"


def test_resolve_fills_a_steps_own_settings(project):
    project.ks("secrets-manager", "secret", "register", "db",
               "--user=ana", "--password=pa55")
    settings = {
        "url": "postgres://{{db.user}}:{{db.password}}@db:5432/ml",
        "retries": 3,
        "nested": [{"user": "{{db.user}}"}, ("{{db.password}}", None)],
        "{{not.a_key_reference}}": "literal \\{{db.user}}",
    }
    resolved = keystack.resolve(settings)
    assert resolved == {
        "url": "postgres://ana:pa55@db:5432/ml",
        "retries": 3,
        "nested": [{"user": "ana"}, ("pa55", None)],
        "{{not.a_key_reference}}": "literal {{db.user}}",
    }
    assert settings["url"].startswith("postgres://{{"), "the input is left as it was"
    assert keystack.resolve("{{db.user}}") == "ana"


def test_resolve_without_references_needs_no_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert keystack.resolve({"a": ["b", 1]}) == {"a": ["b", 1]}


def test_validate_reports_every_problem_with_component_and_attribute(project):
    project.ks("experiment-tracker", "register", "mlflow", "--flavor=mlflow",
               "--tracking_uri=http://mlflow:5000",
               "--tracking_username={{missing_secret.username}}",
               "--tracking_password={{present.nokey}}")
    project.ks("secrets-manager", "secret", "register", "present", "--k=v")
    project.ks("stack", "update", "default", "-e", "mlflow")
    stack = keystack.StepContext.from_env().stack
    with pytest.raises(keystack.ValidationFailed) as failed:
        stack.validate()
    problems = failed.value.problems
    assert [(p.component_type, p.component, p.attribute) for p in problems] == [
        ("experiment_tracker", "mlflow", "tracking_password"),
        ("experiment_tracker", "mlflow", "tracking_username"),
    ]
    assert "missing_secret" in str(failed.value) and "nokey" in str(failed.value)
    assert "failed validation with 2 problem(s)" in str(failed.value)
    # Levels as the command line has them.
    stack.validate(level="NONE")
    with pytest.raises(keystack.ValidationFailed) as only_missing:
        stack.validate(level="SECRET_EXISTS")
    assert len(only_missing.value.problems) == 1
    with pytest.raises(keystack.InvalidInput, match="SECRET_AND_KEY_EXISTS"):
        stack.validate(level="ALL")
