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


class InapplicableMethodError(ArchitError, TypeError):
    """Raised when a ``PreTrainedModel`` method cannot apply to a model: ``set_output_embeddings`` on a task that
    predicts no vocabulary, gradient checkpointing on a backbone without it. The message says why and what to use
    instead."""


class RunConfigurationError(ArchitError, ValueError):
    """Raised when a run configuration (or another option class of the runscripts) has an invalid value or a
    contradicting pair of values, or when its YAML file cannot be read; the message names the field(s) and the
    valid choices."""


class ExperimentConfigError(ArchitError, ValueError):
    """Raised when a pretraining experiment config is invalid; the subclasses name the kind of mistake."""


class MissingArchitectureError(ExperimentConfigError):
    """Raised when an experiment config names no ``architecture``."""


class UnknownExperimentArchitectureError(ExperimentConfigError):
    """Raised when ``architecture`` names no registered architecture; the message lists the known ones."""


class SubConfigMismatchError(ExperimentConfigError):
    """Raised when the config holds a sub-config (``transformer`` or ``rnn``) its architecture does not take."""


class UnsupportedObjectiveError(ExperimentConfigError):
    """Raised when the architecture cannot be trained with the objective (masked LM on a unidirectional RNN,
    causal LM on a bidirectional one or on BERT)."""


class TokenizerTrainingError(ArchitError, ValueError):
    """Raised when a tokenizer cannot be trained as asked: an unknown kind or objective, a vocabulary too
    small for the special tokens, or no text."""


class NativeConfigError(ArchitError, ValueError):
    """Raised when a native backbone's config holds an impossible value (a size below 1, a dropout outside
    ``[0, 1)``, an unknown nonlinearity, a user module argument without a default)."""


class RecurrentStateError(ArchitError, ValueError):
    """Raised when a recurrent backbone gets a cache it cannot continue from: a non-empty key/value cache, a
    cache for a bidirectional backbone, or a request to roll a recurrent state back."""


class CommandError(ArchitError, ValueError):
    """Raised when a sub-command of the ``archit`` command is given inconsistent or incomplete options."""


class ModelInputError(ArchitError, ValueError):
    """Raised when a backbone's ``forward`` gets inputs it cannot take: neither or both of ``input_ids`` and
    ``inputs_embeds``, or ``inputs_embeds`` for an adapted module that embeds its own ids."""


class AdaptedOutputError(ArchitError, TypeError):
    """Raised when a module adapted with ``adapt_module`` returns something other than hidden states (a tensor,
    a tuple starting with one, or an object with ``last_hidden_state``)."""


class MultiTaskError(ArchitError, ValueError):
    """Raised when the tasks of a multi-task model or run do not fit together: an unknown or duplicate task name,
    a task without its kind, or a head option that belongs to another kind of task."""
