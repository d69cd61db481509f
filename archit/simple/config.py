"""``RunConfiguration``: everything one fine-tuning run needs, as one attrs class.

The same class feeds Python callers, ``--config run.yaml`` files and the ``archit`` command's options
(each field's ``metadata["help"]`` is its ``--help`` line). Values from YAML or the command line are
converted to each field's type by :meth:`RunConfiguration.from_dict`; a bad value or a bad pair of values
raises :class:`RunConfigurationError` naming the field(s) and what would be valid.
"""

from __future__ import annotations

import difflib
import functools
import os
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from archit.errors import ArchitError, DataError
from archit.simple.outputs import replacing
from archit.simple.textfiles import DEFAULT_ENCODING, reading_codec

__all__ = ["RunConfiguration", "RunConfigurationError", "known_tasks"]

STRATEGIES = ("no", "steps", "epoch")
PRECISIONS = ("auto", "no", "fp16", "bf16")


class RunConfigurationError(ArchitError, ValueError):
    """Raised when a run configuration has an invalid value or a contradicting pair of values, or when its
    YAML file cannot be read; the message names the field(s) and the valid choices."""


def known_tasks() -> tuple[str, ...]:
    """The task names ``ArchitFactory`` knows, read from its task registry (imported here, not at the top, so
    that reading a configuration does not load torch)."""
    from archit.modeling.factory import ArchitFactory

    return tuple(ArchitFactory.tasks())


def _choice(choices: Callable[[], tuple[str, ...]] | tuple[str, ...]) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        valid = choices() if callable(choices) else choices
        if value not in valid:
            close = difflib.get_close_matches(str(value), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RunConfigurationError(f"{attribute.name} must be one of {', '.join(valid)}; got {value!r}.{hint}")

    return check


def _at_least(minimum: float) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and value < minimum:
            raise RunConfigurationError(f"{attribute.name} must be at least {minimum}; got {value!r}.")

    return check


def _text_encoding(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    try:
        reading_codec(value)
    except DataError as error:
        raise RunConfigurationError(f"{attribute.name}: {error}") from None


TAB_SPELLINGS = ("tab", "\\t")
"""How a command line or YAML file can spell a tab delimiter."""


def _delimiter(value: Any) -> Any:
    """A delimiter as given, or a tab for one of the :data:`TAB_SPELLINGS`."""
    return "\t" if isinstance(value, str) and value.lower() in TAB_SPELLINGS else value


def _one_character(instance: Any, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and (len(value) != 1 or value in '"\r\n'):
        raise RunConfigurationError(
            f"{attribute.name} must be one character other than a quote or a line break (write tab for a tab); "
            f"got {value!r}."
        )


def _help(text: str) -> dict[str, str]:
    return {"help": text}


def _typed(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """Check a value against its field's annotation (ints pass for floats, ``bool`` never passes for numbers)."""
    optional, base = _unpack(_field_types()[attribute.name])
    if value is None and optional:
        return
    accepted = (int, float) if base is float else (base,)
    if not isinstance(value, accepted) or (base is not bool and isinstance(value, bool)):
        raise RunConfigurationError(f"{attribute.name} must be {base.__name__}; got {value!r}.")


def _with_type_checks(cls: type, fields: list[attrs.Attribute]) -> list[attrs.Attribute]:
    """attrs field transformer: every field's validators run after a type check."""
    return [
        field.evolve(validator=attrs.validators.and_(_typed, field.validator) if field.validator else _typed)
        for field in fields
    ]


@attrs.define(kw_only=True, field_transformer=_with_type_checks)
class RunConfiguration:
    """One fine-tuning run: model, task, data, schedule and outputs.

    Raises:
        RunConfigurationError: on construction, for an invalid value or a contradicting pair of values.
    """

    task: str = attrs.field(validator=_choice(known_tasks), metadata=_help("the task to train, see `archit tasks`"))
    model_name_or_path: str = attrs.field(
        metadata=_help("checkpoint directory or Hugging Face Hub id (org/name) of the backbone or model")
    )
    revision: str | None = attrs.field(
        default=None,
        metadata=_help(
            "branch, tag or commit of a hub model_name_or_path (default: main); the cache, offline mode and token "
            "come from HF_HUB_CACHE, HF_HUB_OFFLINE and HF_TOKEN"
        ),
    )
    run_name: str = attrs.field(default="archit-run", metadata=_help("name of the run"))
    output_dir: str | None = attrs.field(default=None, metadata=_help("where outputs go (default: runs/RUN_NAME)"))
    train_file: str | None = attrs.field(default=None, metadata=_help("training data file"))
    validation_file: str | None = attrs.field(default=None, metadata=_help("development data file"))
    test_file: str | None = attrs.field(default=None, metadata=_help("test data file (predictions are written for it)"))
    encoding: str = attrs.field(
        default=DEFAULT_ENCODING,
        validator=_text_encoding,
        metadata=_help("text encoding of the data files (utf-8 with or without a byte-order mark; latin-1, cp1252...)"),
    )
    delimiter: str | None = attrs.field(
        default=None,
        converter=_delimiter,
        validator=_one_character,
        metadata=_help("field delimiter of CSV/TSV files, e.g. ';' or tab; unset: ',' for .csv, a tab for .tsv"),
    )
    text_column: str = attrs.field(default="text", metadata=_help("column holding the text (CSV/TSV/JSONL)"))
    text_pair_column: str | None = attrs.field(
        default="text_pair", metadata=_help("column holding the second text of sentence pairs, when present")
    )
    label_column: str = attrs.field(default="label", metadata=_help("column holding the label (CSV/TSV/JSONL)"))
    label_separator: str = attrs.field(default=",", metadata=_help("separator of multi-label names in CSV/TSV"))
    choices_column: str = attrs.field(default="choices", metadata=_help("column holding the multiple-choice options"))
    conllu_label_field: str = attrs.field(
        default="upos",
        validator=_choice(("upos", "xpos", "deprel")),
        metadata=_help("CoNLL-U field tagged by token_classification (upos, xpos, deprel...)"),
    )
    head_options: dict[str, Any] = attrs.field(
        factory=dict, metadata=_help("head fields passed to ArchitFactory.from_pretrained (KEY=VALUE)")
    )
    max_seq_length: int = attrs.field(default=128, validator=_at_least(8), metadata=_help("most tokens per input"))
    doc_stride: int = attrs.field(default=32, validator=_at_least(0), metadata=_help("QA: overlap of context windows"))
    max_answer_length: int = attrs.field(default=30, validator=_at_least(1), metadata=_help("QA: longest answer"))
    train_batch_size: int = attrs.field(default=8, validator=_at_least(1), metadata=_help("training batch size"))
    eval_batch_size: int = attrs.field(default=16, validator=_at_least(1), metadata=_help("evaluation batch size"))
    gradient_accumulation_steps: int = attrs.field(
        default=1, validator=_at_least(1), metadata=_help("batches per optimiser step")
    )
    num_epochs: float = attrs.field(default=3.0, validator=_at_least(0), metadata=_help("training epochs"))
    max_steps: int = attrs.field(default=-1, metadata=_help("training steps; when positive, overrides num_epochs"))
    learning_rate: float = attrs.field(default=5e-5, validator=_at_least(0), metadata=_help("peak learning rate"))
    head_learning_rate: float | None = attrs.field(
        default=None,
        validator=_at_least(0),
        metadata=_help("peak learning rate of the task head (default: learning_rate); new heads learn faster"),
    )
    weight_decay: float = attrs.field(default=0.0, validator=_at_least(0), metadata=_help("AdamW weight decay"))
    warmup_ratio: float = attrs.field(default=0.0, validator=_at_least(0), metadata=_help("warm-up, share of steps"))
    warmup_steps: int = attrs.field(default=0, validator=_at_least(0), metadata=_help("warm-up, in steps"))
    seed: int = attrs.field(default=42, metadata=_help("random seed"))
    eval_strategy: str = attrs.field(
        default="epoch", validator=_choice(STRATEGIES), metadata=_help("when to evaluate: no, steps or epoch")
    )
    eval_steps: int | None = attrs.field(default=None, validator=_at_least(1), metadata=_help("evaluate every N steps"))
    save_strategy: str = attrs.field(
        default="no", validator=_choice(STRATEGIES), metadata=_help("when to save checkpoints: no, steps or epoch")
    )
    save_steps: int | None = attrs.field(default=None, validator=_at_least(1), metadata=_help("save every N steps"))
    save_total_limit: int | None = attrs.field(
        default=1, validator=_at_least(1), metadata=_help("checkpoints kept on disk")
    )
    resume: bool = attrs.field(
        default=False,
        metadata=_help(
            "continue from the newest complete checkpoint in OUTPUT_DIR/checkpoints (optimizer, schedule, random "
            "state and data order included), or start afresh if there is none; needs save_strategy steps or epoch"
        ),
    )
    logging_steps: int = attrs.field(default=10, validator=_at_least(1), metadata=_help("log the loss every N steps"))
    early_stopping_patience: int | None = attrs.field(
        default=None, validator=_at_least(1), metadata=_help("stop after N evaluations without improvement")
    )
    metric_for_best_model: str | None = attrs.field(
        default=None, metadata=_help("metric that picks the best checkpoint (default: the task's main metric)")
    )
    mixed_precision: str = attrs.field(
        default="auto", validator=_choice(PRECISIONS), metadata=_help("auto, no, fp16 or bf16 (auto: bf16/fp16 on GPU)")
    )
    max_train_samples: int | None = attrs.field(
        default=None, validator=_at_least(1), metadata=_help("use only the first N training examples")
    )
    max_eval_samples: int | None = attrs.field(
        default=None, validator=_at_least(1), metadata=_help("use only the first N evaluation/test examples")
    )
    progress_bars: bool = attrs.field(default=True, metadata=_help("show progress bars"))

    def __attrs_post_init__(self) -> None:
        for strategy, steps in (("eval_strategy", "eval_steps"), ("save_strategy", "save_steps")):
            if getattr(self, strategy) == "steps" and getattr(self, steps) is None:
                raise RunConfigurationError(f"{strategy} is 'steps' but {steps} is not set; set {steps} to N > 0.")
        if self.max_steps <= 0 and self.num_epochs <= 0:
            raise RunConfigurationError("num_epochs is 0 and max_steps is not positive: set one of them.")
        if self.warmup_ratio >= 1:
            raise RunConfigurationError(
                f"warmup_ratio must be below 1 (a share of the training steps); got {self.warmup_ratio}. "
                "Give a number of steps as warmup_steps instead."
            )
        if self.warmup_ratio > 0 and self.warmup_steps > 0:
            raise RunConfigurationError(
                f"warmup_ratio ({self.warmup_ratio}) and warmup_steps ({self.warmup_steps}) are both set; set one."
            )
        if self.task in ("extractive_qa", "extractive_aqa") and self.doc_stride >= self.max_seq_length:
            raise RunConfigurationError(
                f"doc_stride ({self.doc_stride}) must be smaller than max_seq_length ({self.max_seq_length})."
            )
        if self.early_stopping_patience is not None:
            self._check_early_stopping()
        if self.resume and self.save_strategy == "no" and self.early_stopping_patience is None:
            raise RunConfigurationError(
                "resume continues from the run's newest checkpoint, but save_strategy is 'no', so the run writes "
                "none; set save_strategy to 'steps' (with save_steps) or 'epoch'."
            )

    def _check_early_stopping(self) -> None:
        if self.eval_strategy == "no":
            raise RunConfigurationError(
                f"early_stopping_patience ({self.early_stopping_patience}) needs evaluations, but eval_strategy is "
                "'no'; set eval_strategy to 'epoch' or 'steps'."
            )
        if self.save_strategy not in ("no", self.eval_strategy):
            raise RunConfigurationError(
                f"early_stopping_patience keeps the best checkpoint, so save_strategy ({self.save_strategy!r}) must "
                f"be 'no' or equal eval_strategy ({self.eval_strategy!r})."
            )
        if self.eval_strategy == "steps" and self.save_strategy == "steps" and self.save_steps % self.eval_steps:
            raise RunConfigurationError(
                f"save_steps ({self.save_steps}) must be a multiple of eval_steps ({self.eval_steps}) with "
                "early_stopping_patience."
            )

    # --- derived values --------------------------------------------------------------------------------
    @property
    def resolved_output_dir(self) -> str:
        """``output_dir``, or ``runs/<run_name>`` when unset."""
        return self.output_dir or os.path.join("runs", self.run_name)

    # --- dictionaries and YAML ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fields as plain values, in declaration order."""
        return attrs.asdict(self, recurse=False)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], origin: str = "the configuration") -> RunConfiguration:
        """Build from plain values (YAML, command line), converting strings to each field's type.

        Raises:
            RunConfigurationError: an unknown key (with the closest valid one), a value of the wrong type, a
                missing required field, or an invalid value or pair.
        """
        names = [field.name for field in attrs.fields(cls)]
        unknown = [key for key in values if key not in names]
        if unknown:
            close = difflib.get_close_matches(unknown[0], names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Valid keys: {', '.join(names)}."
            raise RunConfigurationError(f"{origin}: unknown key {unknown[0]!r}.{hint}")
        missing = [
            field.name for field in attrs.fields(cls) if field.default is attrs.NOTHING and field.name not in values
        ]
        if missing:
            raise RunConfigurationError(f"{origin}: {', '.join(missing)} must be set.")
        hints = _field_types()
        converted = {key: _convert(key, value, hints[key], origin) for key, value in values.items()}
        return cls(**converted)

    def to_yaml(self, path: str) -> None:
        """Write the configuration as YAML (readable back with :meth:`from_yaml`), whole or not at all."""
        import yaml

        with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.to_dict(), handle, sort_keys=False, allow_unicode=True)

    @classmethod
    def read_yaml(cls, path: str) -> dict[str, Any]:
        """The mapping of a YAML configuration file, unchecked.

        Raises:
            RunConfigurationError: the file is missing, is not YAML, or does not hold a mapping.
        """
        import yaml

        if not os.path.isfile(path):
            raise RunConfigurationError(f"{path}: no such configuration file.")
        with open(path, encoding="utf-8") as handle:
            try:
                values = yaml.safe_load(handle)
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f", line {mark.line + 1}" if mark is not None else ""
                problem = getattr(error, "problem", None) or str(error)
                raise RunConfigurationError(f"{path}{where}: not valid YAML ({problem}).") from None
        if values is None:
            return {}
        if not isinstance(values, dict):
            raise RunConfigurationError(f"{path}: expected a mapping of option names to values.")
        return values

    @classmethod
    def from_yaml(cls, path: str, **overrides: Any) -> RunConfiguration:
        """Read a YAML configuration; keyword overrides win over the file.

        Raises:
            RunConfigurationError: see :meth:`read_yaml` and :meth:`from_dict`.
        """
        return cls.from_dict({**cls.read_yaml(path), **overrides}, origin=path)


@functools.cache
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(RunConfiguration)


def _unpack(hint: Any) -> tuple[bool, type]:
    """``(accepts None, the plain class)`` of an annotation: ``int | None`` gives ``(True, int)``,
    ``dict[str, Any]`` gives ``(False, dict)``."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = typing.get_args(hint)
        optional = type(None) in arguments
        hint = next(argument for argument in arguments if argument is not type(None))
    return optional, typing.get_origin(hint) or hint


def _convert(name: str, value: Any, hint: Any, origin: str) -> Any:
    """``value`` converted to the type ``hint`` (``X | None`` accepts ``None`` and ``"none"``/``"null"``)."""
    optional, base = _unpack(hint)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "null", "")):
        if optional:
            return None
        raise RunConfigurationError(f"{origin}: {name} cannot be empty.")
    try:
        if base is bool:
            return _to_bool(value)
        if base in (int, float):
            number = base(float(value)) if base is int and isinstance(value, str) and "e" in value.lower() else value
            if isinstance(number, bool):
                raise ValueError(value)
            converted = base(number)
            if base is int and float(number) != converted:
                raise ValueError(value)
            return converted
        if base is dict:
            if not isinstance(value, Mapping):
                raise ValueError(value)
            return dict(value)
        return str(value)
    except (TypeError, ValueError):
        raise RunConfigurationError(f"{origin}: {name} must be {base.__name__}; got {value!r}.") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(value)
