"""Type stubs of Keystack's native module (re-exported by ``keystack``)."""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypeVar, overload

__version__: str

T = TypeVar("T")

class Secret:
    """A secret: its name, schema and key-values. ``repr()`` and ``str()``
    show the name, schema and keys, never a value."""

    @property
    def name(self) -> str:
        """The secret's name."""
    @property
    def schema(self) -> str:
        """Its schema (``arbitrary``, ``aws``, ``gcp``, ``azure``, ``basic_auth``)."""
    @property
    def content(self) -> Dict[str, str]:
        """Every key and its value, as a new ``dict``."""
    def keys(self) -> List[str]:
        """The keys, sorted."""
    @overload
    def get(self, key: str) -> Optional[str]: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    def __getitem__(self, key: str) -> str:
        """The value of ``key``; raises ``SecretNotFound`` (a ``KeyError``)."""
    def __contains__(self, key: object) -> bool: ...
    def __len__(self) -> int: ...

class Component:
    """One component of a stack, as written or resolved. ``repr()`` and
    ``str()`` name its attributes, never their values."""

    @property
    def type(self) -> str:
        """The component's type (``secrets_manager``, ``experiment_tracker``, …)."""
    @property
    def name(self) -> str:
        """Its name."""
    @property
    def flavor(self) -> str:
        """Its flavor."""
    @property
    def resolved(self) -> bool:
        """Whether the attributes are resolved (``Stack.resolve()``)."""
    @property
    def attributes(self) -> Dict[str, str]:
        """Its attributes, as a new ``dict``."""
    @overload
    def get(self, attribute: str) -> Optional[str]: ...
    @overload
    def get(self, attribute: str, default: str) -> str: ...

class SecretsManager:
    """The secrets manager of a stack."""

    def get_secret(self, name: str) -> Secret:
        """Reads a secret; raises ``SecretNotFound`` if there is none."""
    def register_secret(
        self, name: str, content: Mapping[str, str], schema: Optional[str] = None
    ) -> Secret:
        """Stores a new secret; raises ``SecretExists`` if the name is taken."""
    def update_secret(
        self,
        name: str,
        set: Optional[Mapping[str, str]] = None,
        remove: Optional[Sequence[str]] = None,
    ) -> Secret:
        """Sets and removes keys in one update; returns the secret as stored."""
    def list_secret_names(self) -> List[str]:
        """The names of every secret of this manager, sorted."""
    def delete_secret(self, name: str) -> None:
        """Deletes a secret; raises ``SecretNotFound`` if there is none."""

class Stack:
    """The stack of a :class:`StepContext`."""

    @property
    def name(self) -> str:
        """The stack's name."""
    @property
    def secrets_manager(self) -> SecretsManager:
        """The stack's secrets manager; raises ``NotFound`` if it has none."""
    @property
    def components(self) -> List[Component]:
        """Each component's configuration as written (references unresolved)."""
    def resolve(self) -> List[Component]:
        """Each component with every reference replaced by its value."""
    def validate(self, level: Optional[str] = None) -> None:
        """Validates the stack; raises ``ValidationFailed`` with every problem."""

class StepContext:
    """What a step sees of the stack it runs on."""

    @staticmethod
    def from_env() -> StepContext:
        """The project from the current directory; the stack from
        ``KEYSTACK_STACK`` (set by ``keystack run``), else the active one."""
    @property
    def stack(self) -> Stack:
        """The stack the step runs on."""

def resolve(obj: T) -> T:
    """Resolves every ``{{name.key}}`` in a str or in the strings of a
    dict/list/tuple tree, fetching each distinct secret once."""

def _mask(text: str) -> str: ...
