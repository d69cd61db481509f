"""The report of what a load did, and the transformers log lines it replaces.

The report is read from the loaded model: which weights the checkpoint filled, which share a tensor
(:func:`archit.modeling.ties.tied_pairs`), which are new. transformers' own lists of missing, unexpected and
mismatched keys are filtered out while loading (:func:`quiet_loading`), since the report states them once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from torch import nn

from archit._compat import LOADING_LOGGERS, is_loading_report_message, mismatched_keys
from archit.errors import CheckpointError, HeadConfigError
from archit.modeling.tasks.configuration import ArchitConfig
from archit.modeling.ties import leaders, tied_pairs

__all__ = ["LoadOutcome", "LoadingReport", "quiet_loading", "raise_on_mismatch"]

logger = logging.getLogger("archit")

MismatchedWeight: TypeAlias = tuple[str, tuple[int, ...] | None, tuple[int, ...] | None]
"""``(name, checkpoint shape, model shape)`` of a weight the checkpoint held in another shape (``None``: unknown)."""


@dataclass
class LoadingReport:
    """What ``from_pretrained`` loaded, and what it did not, read from the model after loading.

    ``new == []`` holds exactly when no weight of the model is random.

    Attributes:
        checkpoint: the directory or hub id loaded from.
        loaded: model weights filled from the checkpoint (one name per tensor; see ``tied``).
        new: model weights the checkpoint did not fill, randomly initialised (those re-initialised for their
            shape included, see ``mismatched``).
        unused: checkpoint weights the model has no place for (another head, a decoder...), by checkpoint name.
        mismatched: ``(name, checkpoint shape, model shape)`` of weights re-initialised for their shape.
        tied: ``(name, leader)`` pairs of weights that are one tensor in the model: ``name`` holds the same
            tensor as ``leader``, which ``loaded`` or ``new`` lists.
        notes: what the lists alone do not say: a checkpoint head archit did not reuse, and why.
    """

    checkpoint: str
    loaded: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    mismatched: list[MismatchedWeight] = field(default_factory=list)
    tied: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def log(self) -> None:
        """One short line per group: loaded at INFO, the rest at WARNING."""
        logger.info("Loaded %d weights from %s.", len(self.loaded), self.checkpoint)
        if self.new:
            logger.warning("%d new weights, randomly initialised: %s", len(self.new), _abbreviate(self.new))
        if self.unused:
            logger.warning("%d checkpoint weights unused: %s", len(self.unused), _abbreviate(self.unused))
        if self.mismatched:
            names = [name for name, _, _ in self.mismatched]
            logger.warning("%d weights re-initialised for their shape: %s", len(names), _abbreviate(names))
        for note in self.notes:
            logger.warning(note)


def _abbreviate(names: list[str], shown: int = 4) -> str:
    names = sorted(names)
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


@dataclass
class LoadOutcome:
    """What one load did, in model names, from which :class:`LoadingReport` is computed (and recomputed when a
    head is replaced after loading).

    Attributes:
        supplied: model weights the checkpoint filled.
        mismatched: ``(name, checkpoint shape, model shape)`` of weights the checkpoint held in another shape.
        unused: checkpoint weights the model has no place for, by checkpoint name.
        checkpoint_names: the checkpoint name of each model weight loaded under another name.
        checkpoint_keys: the names the checkpoint's weights are stored under (``None`` where unread: ``.bin``).
        notes: see :attr:`LoadingReport.notes`.
    """

    supplied: set[str]
    mismatched: list[MismatchedWeight]
    unused: set[str]
    checkpoint_names: dict[str, str] = field(default_factory=dict)
    checkpoint_keys: set[str] | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_loading_info(
        cls,
        model: nn.Module,
        info: dict[str, Any],
        checkpoint_shapes: dict[str, tuple[int, ...]],
        checkpoint_names: dict[str, str],
    ) -> LoadOutcome:
        """Read transformers' ``output_loading_info`` (missing, unexpected and mismatched keys)."""
        mismatched: list[MismatchedWeight] = []
        for name, checkpoint_shape, model_shape in mismatched_keys(info):
            if checkpoint_shape is None:  # transformers 4 lists names only
                checkpoint_shape = _checkpoint_shape(name, checkpoint_names, checkpoint_shapes, model)
                model_shape = tuple(model.get_parameter(name).shape)
            mismatched.append((name, checkpoint_shape, model_shape))
        state = model.state_dict(keep_vars=True)
        missing = set(info.get("missing_keys", ()))
        supplied = set(state) - missing - {name for name, _, _ in mismatched}
        unused = set(info.get("unexpected_keys", ()))
        return cls(supplied, mismatched, unused, checkpoint_names, set(checkpoint_shapes) or None)

    def fills_head(self) -> bool:
        """Whether a head weight came from a checkpoint weight (not only through a tie to the embeddings)."""
        filled = {self.checkpoint_names.get(name, name) for name in self.supplied if name.startswith("head.")}
        return bool(filled if self.checkpoint_keys is None else filled & self.checkpoint_keys)

    def reaches_head(self) -> bool:
        """Whether a checkpoint weight filled a head weight, or was refused by one for its shape."""
        return self.fills_head() or any(name.startswith("head.") for name, _, _ in self.mismatched)

    def drop_head(self) -> None:
        """Forget what the checkpoint gave the head (it is being replaced): those checkpoint weights become
        unused."""
        from_head = {name for name in self.supplied if name.startswith("head.")}
        self.supplied -= from_head
        from_head |= {name for name, _, _ in self.mismatched if name.startswith("head.")}
        names = {self.checkpoint_names.get(name, name) for name in from_head}
        # a head weight tied to another (a decoder to the embeddings) was filled through the tie, not stored
        names = names if self.checkpoint_keys is None else names & self.checkpoint_keys
        self.mismatched = [entry for entry in self.mismatched if not entry[0].startswith("head.")]
        self.unused |= names

    def report(self, model: nn.Module, checkpoint: str) -> LoadingReport:
        """The :class:`LoadingReport` of ``model`` as it is now: one entry per tensor, ties by identity."""
        state = model.state_dict(keep_vars=True)
        leader_of = {name: name for name in state} | leaders(model)  # buffers lead themselves
        groups: dict[str, list[str]] = {}
        for name in state:
            groups.setdefault(leader_of[name], []).append(name)
        loaded: list[str] = []
        new: list[str] = []
        for leader, members in groups.items():
            # a weight re-initialised for its shape was not supplied: it is new, and listed in mismatched too
            (loaded if any(member in self.supplied for member in members) else new).append(leader)
        return LoadingReport(
            checkpoint,
            loaded=loaded,
            new=sorted(new),
            unused=sorted(self.unused),
            mismatched=sorted(self.mismatched),
            tied=[pair for pair in tied_pairs(model) if pair[0] in state],
            notes=list(self.notes),
        )


def _checkpoint_shape(
    name: str, checkpoint_names: dict[str, str], checkpoint_shapes: dict[str, tuple[int, ...]], model: nn.Module
) -> tuple[int, ...] | None:
    """A mismatched weight's shape in the checkpoint, under its own name, its mapped name, or without the
    backbone prefix (a bare backbone checkpoint); ``None`` when the checkpoint's weights were not read."""
    prefix = getattr(model, "base_model_prefix", "") + "."
    for candidate in (checkpoint_names.get(name), name, name.removeprefix(prefix)):
        if candidate in checkpoint_shapes:
            return checkpoint_shapes[candidate]
    return None


# --- transformers' own log ------------------------------------------------------------------------------
def _drop_key_lists(record: logging.LogRecord) -> bool:
    return not is_loading_report_message(record.getMessage())


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Drop transformers' missing / unexpected / mismatched key lists while loading, which the
    :class:`LoadingReport` states once; every other transformers message (``... will NOT tie them``, a corrupt
    checkpoint, offloading) passes. A filter, not a level: changing the loggers' levels would change what
    transformers does."""
    loggers = [logging.getLogger(name) for name in LOADING_LOGGERS]
    for each in loggers:
        each.addFilter(_drop_key_lists)
    try:
        yield
    finally:
        for each in loggers:
            each.removeFilter(_drop_key_lists)


def raise_on_mismatch(
    mismatched: list[MismatchedWeight],
    checkpoint: str,
    config: ArchitConfig,
    ignore_mismatched_sizes: bool,
) -> None:
    """Refuse a load in which a checkpoint weight had another shape than the model's, unless
    ``ignore_mismatched_sizes`` (then the report lists it as re-initialised).

    Raises:
        HeadConfigError: a head weight (the head config disagrees with the checkpoint's head).
        CheckpointError: a backbone weight (the config does not describe the checkpoint's weights).
    """
    if not mismatched or ignore_mismatched_sizes:
        return
    name, checkpoint_shape, model_shape = mismatched[0]
    found = "another shape" if checkpoint_shape is None else f"shape {checkpoint_shape}"
    if name.startswith("head."):
        head_config = config.get_head_config()
        raise HeadConfigError(
            f"The checkpoint's head weight {name} has {found}, but {type(head_config).__name__} "
            f"({head_config}) builds {model_shape}. Use the checkpoint's num_labels, or pass "
            "ignore_mismatched_sizes=True to re-initialise the head."
        )
    raise CheckpointError(
        f"Backbone weight {name} has {found} in {checkpoint} but {model_shape} in the model; "
        "the config does not describe these weights. Pass ignore_mismatched_sizes=True to re-initialise them."
    )
