"""Keystack's exceptions. Every message is the command line's, and none
holds a secret value."""

from __future__ import annotations

# No `dataclasses` or `typing` here: importing them would cost more than
# the rest of `import keystack` together (see docs/performance.md#python).


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


class Problem:
    """One problem found by validation (read-only)."""

    __slots__ = ("location", "component_type", "component", "attribute", "message")

    #: Where: ``stack 's' / experiment_tracker 'mlflow' / attribute 'x'``.
    location: str
    #: The component's type, if the problem is in a component.
    component_type: str | None
    #: The component's name, if the problem is in a component.
    component: str | None
    #: The attribute, if the problem is in one.
    attribute: str | None
    #: What is wrong and what to do.
    message: str

    def __init__(
        self,
        location: str,
        component_type: str | None,
        component: str | None,
        attribute: str | None,
        message: str,
    ) -> None:
        for name, value in zip(
            self.__slots__, (location, component_type, component, attribute, message)
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Problem cannot be changed")

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Problem({fields})"


class ValidationFailed(KeystackError):
    """Validation found problems; ``problems`` lists every one."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])
