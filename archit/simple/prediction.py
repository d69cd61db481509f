"""Predicting a whole data file with a trained model: the one path behind ``archit predict`` and ``archit evaluate``,
for single-task runs (:mod:`archit.simple.inference`) and for each task of a multi-task run
(:mod:`archit.simple.multitask`).

The file is streamed: :meth:`TaskData.read_chunks` reads :data:`CHUNK_SIZE` examples at a time, which are
tokenised once, sorted by length (longest first) so that each batch pads little, predicted by the ``Trainer``
(on every process of a ``torchrun`` launch, which share the batches), put back in the file's order and decoded.
Each chunk's predictions are appended to the predictions file and its scores added to the file's
(:class:`~archit.simple.data.Scorer`), so memory holds one chunk whatever the file's size, and the file and the
scores are those of predicting the whole file at once.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

import attrs
import numpy as np

from archit.simple.data import Example, Feature, TaskData
from archit.simple.outputs import replacing
from archit.simple.textfiles import create_text
from archit.simple.training import ArchitTrainer, inference_arguments, named_predictions

__all__ = ["CHUNK_SIZE", "FilePredictions", "length_order", "predict_file"]

CHUNK_SIZE = 2048
"""Examples read, tokenised and predicted at a time: large enough that batches of similar length form, small
enough that a chunk's features and outputs stay a few megabytes."""


@attrs.frozen
class FilePredictions:
    """What predicting a file gave.

    Attributes:
        output_file: the predictions file (``None`` when none was asked for, and on processes other than the
            main one).
        scores: the task's metrics over the whole file (``{}`` when it holds no gold labels).
        loss: the mean of the batch losses over the file's features (``None`` without gold labels).
        n_examples: the examples read.
    """

    output_file: str | None
    scores: dict[str, float]
    loss: float | None
    n_examples: int


def length_order(features: Sequence[Feature]) -> list[int]:
    """The indices of ``features`` from the longest input to the shortest (file order among equal lengths), the
    order in which they are batched."""
    return sorted(range(len(features)), key=lambda index: -_length(features[index]["input_ids"]))


def _length(input_ids: Sequence[Any]) -> int:
    """Tokens of a feature: its longest choice for multiple choice (``[n_choices][seq_len]`` ids)."""
    if input_ids and isinstance(input_ids[0], (list, tuple)):
        return max(len(choice) for choice in input_ids)
    return len(input_ids)


def predict_file(
    data: TaskData,
    model: Any,
    data_file: str,
    output_file: Callable[[str], str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    loss: bool = True,
) -> FilePredictions:
    """Predict a data file chunk by chunk, write the predictions in the file's order, and score them.

    Args:
        data: the task data, its ``config`` holding the batch size, encoding and delimiter to use.
        model: the trained model (single-task).
        data_file: a file in the task's input format (labels optional).
        output_file: gives the predictions file from the extension the task writes for this data
            (:meth:`TaskData.prediction_suffix` of the first chunk); ``None`` to write no predictions.
        chunk_size: examples read and predicted at a time.
        loss: whether to compute the loss (``False``: the model is not given the gold labels, which saves the
            loss's time; the scores do not need it).

    Returns:
        The predictions file (on the main process), the scores and the loss (``None`` when not computed).

    Raises:
        DataError: the data file is unusable (missing, malformed, empty).
    """
    scorer = data.scorer()
    loss_total, n_features, n_examples = 0.0, 0, 0
    has_loss = False  # the file holds gold labels and the loss is computed
    # The Trainer wants an output directory (it may create it); predicting writes nothing there.
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        args = inference_arguments(data.config, scratch)
        chunks = data.read_chunks(data_file, chunk_size)
        handle, path = None, None
        for examples in chunks:
            if handle is None and output_file is not None and args.process_index == 0:
                path = output_file(data.prediction_suffix(examples))
                handle = stack.enter_context(_new_text_file(path))
            features = data.featurize(examples)
            # A Trainer per chunk: its accelerator keeps every dataloader it prepared, so one Trainer for the
            # whole file would keep every chunk.
            trainer = ArchitTrainer(
                model=model, args=args, data_collator=data.collator(), task_data=data, prediction_loss=loss
            )
            decoded, chunk_loss = _predict_chunk(trainer, data, features, examples)
            scorer.add(decoded, examples)
            if handle is not None:
                data.write_predictions_to(handle, decoded, examples)
            if chunk_loss is not None:
                has_loss = True
                loss_total += chunk_loss * len(features)
            n_features, n_examples = n_features + len(features), n_examples + len(examples)
    mean_loss = loss_total / n_features if has_loss and n_features else None
    return FilePredictions(path, scorer.result(), mean_loss, n_examples)


@contextlib.contextmanager
def _new_text_file(path: str) -> Iterator[TextIO]:
    """A predictions file open for writing, put in place whole when the block ends without an error."""
    with replacing(path) as temporary, create_text(temporary) as handle:
        yield handle


def _predict_chunk(
    trainer: ArchitTrainer, data: TaskData, features: list[Feature], examples: list[Example]
) -> tuple[list[Any], float | None]:
    """The decoded predictions of one chunk in its own order, and the mean of its batch losses."""
    order = length_order(features)
    batched = [features[index] for index in order]
    outputs = trainer.predict(batched)
    batched.clear()  # the Trainer's dataloader holds this list: the chunk's features go now, not when it is collected
    # row k of each output belongs to features[order[k]]: put the rows back in the chunk's order
    restore = np.argsort(order)
    arrays = {name: np.asarray(array)[restore] for name, array in named_predictions(data, outputs.predictions).items()}
    return data.decode(arrays, features, examples), outputs.metrics.get("test_loss")
