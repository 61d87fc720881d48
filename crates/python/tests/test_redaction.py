"""No value in repr(), str() or exceptions; the logging filter masks every
value this process fetched, multi-line values line by line."""

from __future__ import annotations

import io
import logging

import pytest

import keystack
import keystack.logging

PEM = "-----BEGIN KEY-----\nMIIBVQIBADANBgkqh-line-one\nAAECAwQFBgcICQoL-line-two\n-----END KEY-----"


@pytest.fixture
def secret(project):
    project.ks("secrets-manager", "secret", "register", "creds",
               "--user=ana-7f3e", "--password=pw-9c2d1", "--key=@-", stdin=PEM)
    return keystack.StepContext.from_env().stack.secrets_manager.get_secret("creds")


def test_repr_and_str_of_a_secret_show_keys_only(secret):
    for shown in (repr(secret), str(secret), f"{secret}", "%s" % (secret,)):
        assert "pw-9c2d1" not in shown and "ana-7f3e" not in shown and "line-one" not in shown
        assert "creds" in shown and "'password'" in shown


def test_repr_of_resolved_components_show_attribute_names_only(project, secret):
    project.ks("experiment-tracker", "register", "mlflow", "--flavor=mlflow",
               "--tracking_uri=http://mlflow:5000",
               "--tracking_password={{creds.password}}")
    project.ks("stack", "update", "default", "-e", "mlflow")
    for component in keystack.StepContext.from_env().stack.resolve():
        shown = repr(component) + str(component)
        assert "pw-9c2d1" not in shown, shown
    tracker = [c for c in keystack.StepContext.from_env().stack.resolve()
               if c.type == "experiment_tracker"][0]
    assert "tracking_password" in repr(tracker)


def test_exceptions_never_show_a_value(project, secret):
    manager = keystack.StepContext.from_env().stack.secrets_manager
    errors = []
    for attempt in [
        lambda: manager.register_secret("creds", {"password": "pw-9c2d1"}),
        lambda: manager.get_secret("creds")["pw-9c2d1"],
        lambda: manager.register_secret("x", {"k": "pw-9c2d1"}, schema="aws"),
        lambda: keystack.resolve("{{creds.nokey}} pw-9c2d1"),
    ]:
        with pytest.raises(keystack.KeystackError) as caught:
            attempt()
        errors.append(caught.value)
    for error in errors:
        for shown in (str(error), repr(error), " ".join(map(str, error.args))):
            assert "ana-7f3e" not in shown and "line-one" not in shown, shown
    # A key name is not a value: the KeyError names what was asked for.
    assert "pw-9c2d1" not in str(errors[0]) and "pw-9c2d1" not in str(errors[2])


def test_the_masking_filter_masks_message_args_and_every_line(secret):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(keystack.logging.MaskingFilter())
    log = logging.getLogger("step-under-test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        password = secret.get("password")
        key = secret.get("key")
        log.info("connecting with %s", password)
        log.info(f"inline {password} and user %s", secret.get("user"))
        log.info("the whole key: %s", key)
        for line in key.splitlines():
            log.info("one line: %s", line)
        log.info("a dict %s", secret.content)
        try:
            raise RuntimeError(f"failed with {password}")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    written = out.getvalue()
    for value in ["pw-9c2d1", "ana-7f3e", "line-one", "line-two", "MIIBVQ"]:
        assert value not in written, (value, written)
    assert written.count("[REDACTED]") >= 8, written
    assert "connecting with [REDACTED]" in written


def test_the_filter_leaves_other_text_alone(secret):
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "value %d of %s", (3, "x"), None)
    assert keystack.logging.MaskingFilter().filter(record)
    assert record.getMessage() == "value 3 of x"
