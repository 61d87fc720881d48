"""Keystack's exceptions. Every message is the command line's, and none
holds a secret value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional


class KeystackError(Exception):
    """Base of every error Keystack raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(KeystackError, LookupError):
    """A stack, component, active stack or secrets manager does not exist."""


class SecretNotFound(NotFound, KeyError):
    """A secret (or a key of one) does not exist. Also a ``KeyError``."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class SecretExists(KeystackError):
    """A secret of that name already exists."""


class InvalidName(KeystackError, ValueError):
    """A secret name, key or reference is not valid. Also a ``ValueError``."""


class InvalidInput(KeystackError, ValueError):
    """A setting, schema, level or value Keystack cannot use. Also a ``ValueError``."""


class PermissionDenied(KeystackError):
    """The backend refused the credentials or the action, or the project's
    files are not the user's own."""


class Unavailable(KeystackError):
    """The secrets manager cannot be reached or is locked."""


@dataclass(frozen=True)
class Problem:
    """One problem found by validation."""

    #: Where: ``stack 's' / experiment_tracker 'mlflow' / attribute 'x'``.
    location: str
    #: The component's type, if the problem is in a component.
    component_type: Optional[str]
    #: The component's name, if the problem is in a component.
    component: Optional[str]
    #: The attribute, if the problem is in one.
    attribute: Optional[str]
    #: What is wrong and what to do.
    message: str


class ValidationFailed(KeystackError):
    """Validation found problems; ``problems`` lists every one."""

    def __init__(self, message: str, problems: Optional[List[Problem]] = None) -> None:
        super().__init__(message)
        self.problems: List[Problem] = list(problems or [])
