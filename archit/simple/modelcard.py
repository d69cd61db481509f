"""The model card of a run: ``README.md`` in its model directory, written with huggingface_hub's ``ModelCard``.

The card says what the model is (base checkpoint, task, labels), how it was trained (the settings that differ
from the defaults, and the ``archit train`` command that repeats the run), how well it did (the final metrics of
every split), and how to load it (the transformers Auto class, the pipeline where transformers has one for the
task, and ``archit predict``). Its YAML header carries the Hub metadata (``library_name``, ``base_model``,
``pipeline_tag``, ``tags``), so ``ModelCard.load(path).push_to_hub(repo_id)`` publishes it as it is.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from huggingface_hub import ModelCard

    from archit.simple.config import RunConfiguration

__all__ = ["AUTO_CLASSES", "PIPELINE_TAGS", "MODEL_CARD_NAME", "build_model_card", "command_line", "write_model_card"]

MODEL_CARD_NAME = "README.md"
"""The model card's file name in a saved model directory (the Hub's)."""

PIPELINE_TAGS = {
    "token_classification": "token-classification",
    "sequence_classification": "text-classification",
    "multi_label_classification": "text-classification",
    "regression": "text-classification",
    "extractive_qa": "question-answering",
    "extractive_aqa": "question-answering",
    "masked_lm": "fill-mask",
    "causal_lm": "text-generation",
}
"""The transformers pipeline of each task that has one (the card's ``pipeline_tag``)."""

AUTO_CLASSES = {
    "token_classification": "AutoModelForTokenClassification",
    "sequence_classification": "AutoModelForSequenceClassification",
    "multi_label_classification": "AutoModelForSequenceClassification",
    "regression": "AutoModelForSequenceClassification",
    "extractive_qa": "AutoModelForQuestionAnswering",
    "extractive_aqa": "AutoModelForQuestionAnswering",
    "multiple_choice": "AutoModelForMultipleChoice",
    "masked_lm": "AutoModelForMaskedLM",
    "causal_lm": "AutoModelForCausalLM",
}
"""The transformers Auto class that loads a saved model of each task (archit registers its tasks with them)."""

_SHOWN_LABELS = 50
"""Labels listed by name on a card; a longer label set is cut there and counted."""


def command_line(config: RunConfiguration) -> str:
    """The ``archit train`` command that runs ``config``: one option per field that differs from its default.

    Args:
        config: the run configuration.

    Returns:
        The command, quoted for a POSIX shell.
    """
    import yaml

    words = ["archit", "train"]
    for field in attrs.fields(type(config)):
        value = getattr(config, field.name)
        default = field.default.factory() if isinstance(field.default, attrs.Factory) else field.default  # type: ignore[arg-type]  # a class at run time; attrs' stubs declare a function
        if field.default is not attrs.NOTHING and value == default:
            continue
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, dict):  # --head-option KEY=VALUE, one per key, values in YAML flow style
            option = "--" + field.name.removesuffix("s").replace("_", "-")
            for key, item in value.items():
                text = yaml.safe_dump(item, default_flow_style=True, width=1 << 16).strip().removesuffix("...")
                words += [option, f"{key}={text.strip()}"]
        elif isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words += [flag, "tab" if value == "\t" else str(value)]
    return shlex.join(words)


def _command_intro(config: RunConfiguration) -> str:
    if config.train_file is None and getattr(config, "dataset", None) is None:
        return "The command that makes the same run, given the dataset it was passed in Python (`--dataset`):"
    return "The command that makes the same run:"


def _settings(config: RunConfiguration, adapted_modules: str | None = None) -> list[tuple[str, Any]]:
    """The training settings a reader needs to judge the run, defaults included, and the modules PEFT adapted."""
    names = [
        "learning_rate",
        "head_learning_rate",
        "train_batch_size",
        "gradient_accumulation_steps",
        "num_epochs",
        "max_steps",
        "warmup_ratio",
        "warmup_steps",
        "weight_decay",
        "max_seq_length",
        "seed",
        "mixed_precision",
        "early_stopping_patience",
    ]
    if getattr(config, "peft", None):
        names += ["peft", "peft_options"]
    settings = [(name, getattr(config, name)) for name in names if hasattr(config, name)]
    settings.append(("peft target modules", adapted_modules))
    return [(name, value) for name, value in settings if value is not None and value != -1]


def _labels_section(labels: Sequence[str] | None) -> str:
    if not labels:
        return "The task has no label set (its outputs are not class names)."
    shown = ", ".join(f"`{label}`" for label in labels[:_SHOWN_LABELS])
    more = f" and {len(labels) - _SHOWN_LABELS} more" if len(labels) > _SHOWN_LABELS else ""
    return f"{len(labels)} labels: {shown}{more}."


def _metrics_table(metrics: Mapping[str, Mapping[str, float]]) -> str:
    rows = ["| split | metric | value |", "|---|---|---|"]
    for split, values in metrics.items():
        for name, value in values.items():
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            rows.append(f"| {split} | {name} | {shown} |")
    return "\n".join(rows)


def _usage(task: str, model_id: str) -> str:
    auto = AUTO_CLASSES.get(task)
    lines = ["```python", "import archit  # registers archit's model classes with transformers' Auto classes"]
    if auto is not None:
        lines += [
            f"from transformers import AutoTokenizer, {auto}",
            "",
            f"model = {auto}.from_pretrained({model_id!r})",
            f"tokenizer = AutoTokenizer.from_pretrained({model_id!r})",
        ]
    else:
        lines += [
            "from archit import ArchitFactory",
            "",
            f"model = ArchitFactory.from_pretrained({model_id!r}, task={task!r})",
        ]
    pipeline_tag = PIPELINE_TAGS.get(task)
    if pipeline_tag is not None:
        lines += ["", "from transformers import pipeline", "", f"run = pipeline({pipeline_tag!r}, model={model_id!r})"]
    lines += ["```", "", "or, on a data file in the task's input format:", "", "```bash"]
    lines += [f"archit predict {shlex.quote(model_id)} --data FILE", "```"]
    return "\n".join(lines)


def build_model_card(
    config: RunConfiguration,
    labels: Sequence[str] | None,
    metrics: Mapping[str, Mapping[str, float]],
    model_id: str,
    adapted_modules: str | None = None,
) -> ModelCard:
    """The model card of a finished run.

    Args:
        config: the run's configuration (as given, before labels were added to its head options).
        labels: the label names of the trained head, or ``None`` for tasks without label names.
        metrics: the final metrics, by split (``{"train": ..., "validation": ..., "test": ...}``).
        model_id: how the card's loading examples name the model (its directory, or its hub id once pushed).
        adapted_modules: for a PEFT run, the modules it adapted (``"query, value (4 modules)"``).

    Returns:
        A ``huggingface_hub.ModelCard``; ``card.save(path)`` writes it, ``card.push_to_hub(repo_id)`` publishes it.
    """
    from huggingface_hub import ModelCard, ModelCardData

    base = config.model_name_or_path
    data = ModelCardData(
        library_name="transformers",
        # The Hub links base_model to a repository: only a hub id, not a local directory, is one.
        base_model=None if os.path.exists(base) else base,
        pipeline_tag=PIPELINE_TAGS.get(config.task),
        tags=["archit", config.task.replace("_", "-")],
    )
    body = "\n\n".join(
        [
            f"# {config.run_name}",
            f"`{base}` fine-tuned for `{config.task}` with [archit](https://pypi.org/project/archit/).",
            "## Labels",
            _labels_section(labels),
            "## Training",
            "\n".join(
                ["| setting | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in _settings(config, adapted_modules))]
            ),
            _command_intro(config),
            f"```bash\n{command_line(config)}\n```",
            "## Results",
            _metrics_table(metrics),
            "## Use",
            _usage(config.task, model_id),
        ]
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}\n")


def write_model_card(
    directory: str,
    config: RunConfiguration,
    labels: Sequence[str] | None,
    metrics: Mapping[str, Mapping[str, float]],
    model_id: str | None = None,
    adapted_modules: str | None = None,
) -> str:
    """Write :func:`build_model_card` as ``README.md`` in ``directory``; returns its path.

    Args:
        directory: the model directory.
        model_id: how the card names the model (default: ``directory``).
        config, labels, metrics, adapted_modules: see :func:`build_model_card`.
    """
    path = os.path.join(directory, MODEL_CARD_NAME)
    build_model_card(config, labels, metrics, model_id or directory, adapted_modules).save(path)
    return path
