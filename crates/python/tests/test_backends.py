"""The same step code against every emulated backend (moto, drongo,
OpenBao, the Key Vault test server), each as the secrets manager of the
active stack."""

from __future__ import annotations

import pytest

import keystack

from conftest import backend_args

BACKENDS = ["aws", "gcp", "vault", "azure"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_reads_and_writes_through_the_stacks_manager(project, backend):
    project.remote_stack(backend_args(backend))
    project.ks("secrets-manager", "secret", "register", "from_cli",
               "--user=ana", "--password=multi\nline-" + backend)
    stack = keystack.StepContext.from_env().stack
    manager = stack.secrets_manager
    secret = manager.get_secret("from_cli")
    assert secret.content == {"user": "ana", "password": "multi\nline-" + backend}
    manager.register_secret("from_py", {"token": "t-" + backend})
    assert "t-" + backend in project.ks("secrets-manager", "secret", "get", "from_py",
                                        "-o", "json").stdout
    manager.update_secret("from_py", set={"token": "t2"})
    assert manager.get_secret("from_py").content == {"token": "t2"}
    assert manager.list_secret_names() == ["from_cli", "from_py"]
    assert keystack.resolve(["{{from_cli.user}}", "{{from_py.token}}"]) == ["ana", "t2"]
    with pytest.raises(keystack.SecretNotFound):
        manager.get_secret("absent")
    project.ks("experiment-tracker", "register", "mlflow", "--flavor=mlflow",
               "--tracking_uri=http://mlflow:5000",
               "--tracking_username={{from_cli.user}}",
               "--tracking_password={{from_cli.nokey}}")
    project.ks("stack", "update", "remote", "-e", "mlflow")
    stack = keystack.StepContext.from_env().stack
    with pytest.raises(keystack.ValidationFailed) as failed:
        stack.validate()
    assert [p.attribute for p in failed.value.problems] == ["tracking_password"]
    manager.delete_secret("from_py")
    manager.delete_secret("from_cli")
    assert manager.list_secret_names() == []
