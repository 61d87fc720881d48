"""Keystack: the secrets of the ML stack a step runs on.

``StepContext.from_env()`` finds the project and stack exactly as the
``keystack`` command line does (inside ``keystack run`` too); the stack's
``secrets_manager`` reads and writes secrets; ``resolve()`` fills
``{{name.key}}`` references in a step's own settings. Backend I/O runs in
Rust with the GIL released.
"""

from keystack._errors import (
    InvalidInput,
    InvalidName,
    KeystackError,
    NotFound,
    PermissionDenied,
    Problem,
    SecretExists,
    SecretNotFound,
    Unavailable,
    ValidationFailed,
)
from keystack._native import (
    Component,
    Secret,
    SecretsManager,
    Stack,
    StepContext,
    __version__,
    resolve,
)

__all__ = [
    "Component",
    "InvalidInput",
    "InvalidName",
    "KeystackError",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "Secret",
    "SecretExists",
    "SecretNotFound",
    "SecretsManager",
    "Stack",
    "StepContext",
    "Unavailable",
    "ValidationFailed",
    "__version__",
    "logging",
    "resolve",
]


def __getattr__(name: str):
    # `keystack.logging` is imported when first used: the standard library's
    # logging costs more than the rest of `import keystack`.
    if name == "logging":
        import keystack.logging

        return keystack.logging
    raise AttributeError(f"module 'keystack' has no attribute {name!r}")
