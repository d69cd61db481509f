"""The exceptions archit raises.

Every exception derives from :class:`ArchitError` and from the builtin it stands in for, so callers that
already catch ``ValueError`` or ``OSError`` keep working. Each message says what was expected, what was
found, and what to do.
"""


class ArchitError(Exception):
    """Base class of every error archit raises on purpose."""


class UnknownArchitectureError(ArchitError, ValueError):
    """Raised when a model type, config, checkpoint or tokenizer matches no registered family and cannot be
    served by the generic family either (it produces no text hidden states)."""


class RegistrationError(ArchitError, ValueError):
    """Raised when a registry entry is invalid or its name is already taken (pass ``exist_ok=True`` to
    replace it on purpose)."""


class CheckpointError(ArchitError, OSError):
    """Raised when a checkpoint path does not exist, holds no weights, holds unreadable weights, or holds
    weights that do not fit the requested model."""


class HeadConfigError(ArchitError, ValueError):
    """Raised when a head configuration is invalid or disagrees with the checkpoint it is loaded with."""


class DataError(ArchitError, ValueError):
    """Raised when task data (a file or a batch of labels) is malformed; the message names the file and line
    or the argument."""


class DeclarationError(ArchitError, ValueError):
    """Raised when the declaration compiler cannot write code that would rebuild a modified module, for
    example because a new module's constructor arguments cannot be recovered."""


class CacheError(ArchitError, ValueError):
    """Raised when a generation cache is passed under two names or under a name the installed transformers does
    not use, or when a cache was asked for (``use_cache=True``) and the backbone returned none."""


class UnknownTaskError(ArchitError, ValueError):
    """Raised when a task name is not registered; the message lists the registered tasks and how to add one."""


class MultiTaskError(ArchitError, ValueError):
    """Raised when the tasks of a multi-task model or run do not fit together: an unknown or duplicate task name,
    a task without its kind, or a head option that belongs to another kind of task."""
