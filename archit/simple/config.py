"""``RunConfiguration``: everything one fine-tuning run needs, as one attrs class.

The same class feeds Python callers, ``--config run.yaml`` files and the ``archit`` command's options
(each field's ``metadata["help"]`` is its ``--help`` line). Values from YAML or the command line are
converted to each field's type by :meth:`RunConfiguration.from_dict`; a bad value or a bad pair of values
raises :class:`RunConfigurationError` naming the field(s) and what would be valid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from archit.errors import DataError, RunConfigurationError
from archit.simple.options import at_least, from_values, help_text, one_of, typed_fields
from archit.simple.outputs import replacing
from archit.simple.textfiles import DEFAULT_ENCODING, reading_codec

__all__ = ["RunConfiguration", "RunConfigurationError", "known_tasks"]

STRATEGIES = ("no", "steps", "epoch")
PRECISIONS = ("auto", "no", "fp16", "bf16")
LENGTH_GROUPED_TASKS = ("token_classification", "dep_parsing")
"""The tasks whose training batches are grouped by length unless ``group_by_length`` says otherwise."""


def known_tasks() -> tuple[str, ...]:
    """The task names ``ArchitFactory`` knows, read from its task registry (imported here, not at the top, so
    that reading a configuration does not load torch)."""
    from archit.modeling.factory import ArchitFactory

    return tuple(ArchitFactory.tasks())


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


@attrs.define(kw_only=True, field_transformer=typed_fields)
class RunConfiguration:
    # Over 300 lines: one attrs field per run option, each with its help text (the CLI and YAML are built from them).
    """One fine-tuning run: model, task, data, schedule and outputs.

    Raises:
        RunConfigurationError: on construction, for an invalid value or a contradicting pair of values.
    """

    task: str = attrs.field(validator=one_of(known_tasks), metadata=help_text("the task to train, see `archit tasks`"))
    model_name_or_path: str = attrs.field(
        metadata=help_text("checkpoint directory or Hugging Face Hub id (org/name) of the backbone or model")
    )
    revision: str | None = attrs.field(
        default=None,
        metadata=help_text(
            "branch, tag or commit of a hub model_name_or_path (default: main); the cache, offline mode and token "
            "come from HF_HUB_CACHE, HF_HUB_OFFLINE and HF_TOKEN"
        ),
    )
    run_name: str = attrs.field(default="archit-run", metadata=help_text("name of the run"))
    output_dir: str | None = attrs.field(default=None, metadata=help_text("where outputs go (default: runs/RUN_NAME)"))
    train_file: str | None = attrs.field(default=None, metadata=help_text("training data file"))
    validation_file: str | None = attrs.field(default=None, metadata=help_text("development data file"))
    test_file: str | None = attrs.field(
        default=None, metadata=help_text("test data file (predictions are written for it)")
    )
    encoding: str = attrs.field(
        default=DEFAULT_ENCODING,
        validator=_text_encoding,
        metadata=help_text(
            "text encoding of the data files (utf-8 with or without a byte-order mark; latin-1, cp1252...)"
        ),
    )
    delimiter: str | None = attrs.field(
        default=None,
        converter=_delimiter,
        validator=_one_character,
        metadata=help_text("field delimiter of CSV/TSV files, e.g. ';' or tab; unset: ',' for .csv, a tab for .tsv"),
    )
    text_column: str = attrs.field(default="text", metadata=help_text("column holding the text (CSV/TSV/JSONL)"))
    text_pair_column: str | None = attrs.field(
        default="text_pair", metadata=help_text("column holding the second text of sentence pairs, when present")
    )
    label_column: str = attrs.field(default="label", metadata=help_text("column holding the label (CSV/TSV/JSONL)"))
    label_separator: str = attrs.field(default=",", metadata=help_text("separator of multi-label names in CSV/TSV"))
    choices_column: str = attrs.field(
        default="choices", metadata=help_text("column holding the multiple-choice options")
    )
    conllu_label_field: str = attrs.field(
        default="upos",
        validator=one_of(("upos", "xpos", "deprel")),
        metadata=help_text("CoNLL-U field tagged by token_classification (upos, xpos, deprel...)"),
    )
    head_options: dict[str, Any] = attrs.field(
        factory=dict, metadata=help_text("head fields passed to ArchitFactory.from_pretrained (KEY=VALUE)")
    )
    max_seq_length: int = attrs.field(default=128, validator=at_least(8), metadata=help_text("most tokens per input"))
    doc_stride: int = attrs.field(
        default=32, validator=at_least(0), metadata=help_text("QA: overlap of context windows")
    )
    max_answer_length: int = attrs.field(default=30, validator=at_least(1), metadata=help_text("QA: longest answer"))
    train_batch_size: int = attrs.field(default=8, validator=at_least(1), metadata=help_text("training batch size"))
    eval_batch_size: int = attrs.field(default=16, validator=at_least(1), metadata=help_text("evaluation batch size"))
    gradient_accumulation_steps: int = attrs.field(
        default=1, validator=at_least(1), metadata=help_text("batches per optimiser step")
    )
    group_by_length: bool | None = attrs.field(
        default=None,
        metadata=help_text(
            "draw training batches of examples of similar length and about equal tokens (bucketed sampling, "
            "train_batch_size examples per batch on average, each padded to its longest example); unset: on for "
            "the word-level tasks (token_classification, dep_parsing)"
        ),
    )
    num_epochs: float = attrs.field(default=3.0, validator=at_least(0), metadata=help_text("training epochs"))
    max_steps: int = attrs.field(default=-1, metadata=help_text("training steps; when positive, overrides num_epochs"))
    learning_rate: float = attrs.field(default=5e-5, validator=at_least(0), metadata=help_text("peak learning rate"))
    head_learning_rate: float | None = attrs.field(
        default=None,
        validator=at_least(0),
        metadata=help_text("peak learning rate of the task head (default: learning_rate); new heads learn faster"),
    )
    weight_decay: float = attrs.field(default=0.0, validator=at_least(0), metadata=help_text("AdamW weight decay"))
    warmup_ratio: float = attrs.field(default=0.0, validator=at_least(0), metadata=help_text("warm-up, share of steps"))
    warmup_steps: int = attrs.field(default=0, validator=at_least(0), metadata=help_text("warm-up, in steps"))
    seed: int = attrs.field(default=42, metadata=help_text("random seed"))
    eval_strategy: str = attrs.field(
        default="epoch", validator=one_of(STRATEGIES), metadata=help_text("when to evaluate: no, steps or epoch")
    )
    eval_steps: int | None = attrs.field(
        default=None, validator=at_least(1), metadata=help_text("evaluate every N steps")
    )
    save_strategy: str = attrs.field(
        default="no", validator=one_of(STRATEGIES), metadata=help_text("when to save checkpoints: no, steps or epoch")
    )
    save_steps: int | None = attrs.field(default=None, validator=at_least(1), metadata=help_text("save every N steps"))
    save_total_limit: int | None = attrs.field(
        default=1, validator=at_least(1), metadata=help_text("checkpoints kept on disk")
    )
    resume: bool = attrs.field(
        default=False,
        metadata=help_text(
            "continue from the newest complete checkpoint in OUTPUT_DIR/checkpoints (optimizer, schedule, random "
            "state and data order included), or start afresh if there is none; needs save_strategy steps or epoch"
        ),
    )
    logging_steps: int = attrs.field(
        default=10, validator=at_least(1), metadata=help_text("log the loss every N steps")
    )
    early_stopping_patience: int | None = attrs.field(
        default=None, validator=at_least(1), metadata=help_text("stop after N evaluations without improvement")
    )
    metric_for_best_model: str | None = attrs.field(
        default=None, metadata=help_text("metric that picks the best checkpoint (default: the task's main metric)")
    )
    mixed_precision: str = attrs.field(
        default="auto",
        validator=one_of(PRECISIONS),
        metadata=help_text("auto, no, fp16 or bf16 (auto: bf16/fp16 on GPU)"),
    )
    max_train_samples: int | None = attrs.field(
        default=None, validator=at_least(1), metadata=help_text("use only the first N training examples")
    )
    max_eval_samples: int | None = attrs.field(
        default=None, validator=at_least(1), metadata=help_text("use only the first N evaluation/test examples")
    )
    progress_bars: bool = attrs.field(default=True, metadata=help_text("show progress bars"))
    report_to: str = attrs.field(
        default="none",
        metadata=help_text(
            "where the Trainer reports the logs: none, all, or integrations joined by commas (tensorboard, wandb, "
            "mlflow...); TensorBoard writes to OUTPUT_DIR/checkpoints/runs"
        ),
    )
    peft: str | None = attrs.field(
        default=None,
        metadata=help_text(
            "a PEFT method that adapts the backbone (lora, loha, ia3...) while the head trains in full; the "
            "adapter is saved in model/adapter, the merged model in model/ (see merge_adapter)"
        ),
    )
    merge_adapter: bool = attrs.field(
        default=True,
        metadata=help_text(
            "with peft: save the model with the adapter merged into its weights in model/ (the adapter and trained "
            "head are in model/adapter either way); with --no-merge-adapter, model/ holds only the config and "
            "loads as the base checkpoint with the adapter attached"
        ),
    )
    peft_options: dict[str, Any] = attrs.field(
        factory=dict,
        metadata=help_text(
            "fields of the PEFT method's config (KEY=VALUE: r=16, lora_alpha=32...); without target_modules, PEFT's "
            "default for the model type or else every linear layer of the backbone"
        ),
    )
    dataset: str | None = attrs.field(
        default=None,
        metadata=help_text(
            "a datasets directory written by save_to_disk, or a dataset on the Hugging Face Hub, instead of data files"
        ),
    )
    dataset_config: str | None = attrs.field(
        default=None, metadata=help_text("the configuration of a hub dataset (e.g. mrpc of nyu-mll/glue)")
    )
    train_split: str = attrs.field(default="train", metadata=help_text("the dataset's training split"))
    validation_split: str | None = attrs.field(
        default="validation", metadata=help_text("the dataset's development split (left out when it has none)")
    )
    test_split: str | None = attrs.field(
        default="test", metadata=help_text("the dataset's test split (left out when it has none)")
    )

    @property
    def groups_by_length(self) -> bool:
        """Whether training batches are grouped by length: ``group_by_length``, or by default for word-level
        tasks (:data:`LENGTH_GROUPED_TASKS`), whose examples vary most in length."""
        return self.task in LENGTH_GROUPED_TASKS if self.group_by_length is None else self.group_by_length

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
        if not self.merge_adapter and self.peft is None:
            raise RunConfigurationError(
                "merge_adapter is off but peft is not set; it chooses how a PEFT run saves its adapter: set peft "
                "(e.g. lora), or drop merge_adapter."
            )
        if self.peft_options and self.peft is None:
            raise RunConfigurationError(
                f"peft_options are set but peft is not; set peft to the method they configure (e.g. lora), or drop "
                f"{', '.join(self.peft_options)}."
            )
        if self.dataset is not None and self.train_file is not None:
            raise RunConfigurationError(
                f"dataset and train_file are both set ({self.dataset!r}, {self.train_file!r}); a run reads one: "
                "unset one of them."
            )
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
        if (
            self.eval_strategy == self.save_strategy == "steps"
            and self.save_steps is not None  # set with "steps", as checked above
            and self.eval_steps is not None
            and self.save_steps % self.eval_steps
        ):
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
        return from_values(cls, values, origin)

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
