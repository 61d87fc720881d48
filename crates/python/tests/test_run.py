"""Inside `keystack run`: the step finds the stack `keystack run` exported,
and the example of docs/python.md runs as written."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "python.md"


def docs_example() -> str:
    """The first ```python block of docs/python.md."""
    text = DOCS.read_text()
    found = re.search(r"```python\n(.*?)```", text, re.S)
    assert found, "docs/python.md has a python example"
    return found.group(1)


def test_a_step_inside_keystack_run_reads_the_stack_run_chose(project):
    project.ks("secrets-manager", "secret", "register", "mlflow_secret",
               "--username=admin", "--password=in-run-pw")
    project.ks("stack", "register", "other", "-o", "default", "-a", "default", "-x", "default")
    step = (
        "import keystack\n"
        "context = keystack.StepContext.from_env()\n"
        "print(context.stack.name)\n"
        "print(context.stack.secrets_manager.get_secret('mlflow_secret').content['username'])\n"
    )
    done = project.ks("run", "--stack", "other", "--", sys.executable, "-c", step)
    assert done.stdout.split() == ["other", "admin"]


def test_the_documented_step_example_runs_inside_keystack_run(project):
    project.ks("secrets-manager", "secret", "register", "mlflow_secret",
               "--username=admin", "--password=docs-pw-31")
    script = project.root / "step.py"
    script.write_text(docs_example())
    done = project.ks("run", "--no-masking", "--", sys.executable, str(script))
    assert "'username': 'admin'" in done.stdout, done.stdout
    assert "docs-pw-31" in done.stdout
    # Once the stack refers to the secret, `keystack run` masks its values
    # in the step's output.
    project.ks("experiment-tracker", "register", "mlflow", "--flavor=mlflow",
               "--tracking_uri=http://mlflow:5000",
               "--tracking_password={{mlflow_secret.password}}")
    project.ks("stack", "update", "default", "-e", "mlflow")
    masked = project.ks("run", "--", sys.executable, str(script))
    assert "docs-pw-31" not in masked.stdout and "[REDACTED]" in masked.stdout
