"""Predicting a file streamed in chunks and batched by length (:mod:`archit.simple.prediction`) writes the bytes
and gives the scores of predicting it whole in the file's order, for every task; and holds one chunk at a time."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import pytest
import torch

from archit.errors import DataError
from archit.simple.config import RunConfiguration
from archit.simple.data import TaskData, get_task_data, load_tokenizer
from archit.simple.prediction import length_order, predict_file
from archit.simple.run import load_model
from archit.simple.training import ArchitTrainer, inference_arguments, named_predictions

WORDS = [
    "the",
    "cat",
    "sat",
    "on",
    "a",
    "mat",
    "while",
    "New",
    "York",
    "and",
    "Paris",
    "grew",
    "big",
    "dogs",
    "ran",
    "in",
    "parks",
]
TAGS = ["O", "O", "B-PER", "I-PER", "B-LOC", "O"]


def _sentence_lengths(n: int, seed: int) -> list[int]:
    generator = random.Random(seed)
    return [generator.choice([1, 2, 3, 5, 8, 13, 21]) for _ in range(n)]


def _words(length: int, generator: random.Random) -> list[str]:
    return [generator.choice(WORDS) for _ in range(length)]


def bio_text(n: int, seed: int = 0) -> str:
    """CoNLL/BIO sentences of varied lengths."""
    generator = random.Random(seed)
    blocks = []
    for length in _sentence_lengths(n, seed):
        blocks.append("".join(f"{w} {generator.choice(TAGS)}\n" for w in _words(length, generator)))
    return "\n".join(blocks)


def conllu_text(n: int, seed: int = 0) -> str:
    """CoNLL-U sentences of varied lengths, each word attached to the one before it (the first to the root)."""
    generator = random.Random(seed)
    relations, tags = ["nsubj", "obj", "det", "obl:tmod"], ["NOUN", "VERB", "DET"]
    blocks = []
    for number, length in enumerate(_sentence_lengths(n, seed)):
        lines = [f"# sent_id = s{number}"]
        for index, word in enumerate(_words(length, generator), 1):
            relation = "root" if index == 1 else generator.choice(relations)
            lines.append(f"{index}\t{word}\t_\t{generator.choice(tags)}\t_\t_\t{index - 1}\t{relation}\t_\t_")
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def classification_text(n: int, seed: int = 0) -> str:
    """A CSV file of texts of varied lengths with a label."""
    generator = random.Random(seed)
    rows = [
        f"{' '.join(_words(length, generator))},{generator.choice(['yes', 'no', 'maybe'])}"
        for length in _sentence_lengths(n, seed)
    ]
    return "text,label\n" + "\n".join(rows) + "\n"


def multi_label_text(n: int, seed: int = 0) -> str:
    generator = random.Random(seed)
    rows = [
        json.dumps({"text": " ".join(_words(length, generator)), "label": generator.sample(["a", "b", "c"], 2)})
        for length in _sentence_lengths(n, seed)
    ]
    return "\n".join(rows) + "\n"


def regression_text(n: int, seed: int = 0) -> str:
    generator = random.Random(seed)
    rows = [
        json.dumps({"text": " ".join(_words(length, generator)), "label": generator.random() * 5})
        for length in _sentence_lengths(n, seed)
    ]
    return "\n".join(rows) + "\n"


def choice_text(n: int, seed: int = 0) -> str:
    generator = random.Random(seed)
    rows = []
    for length in _sentence_lengths(n, seed):
        choices = [" ".join(_words(generator.randint(1, length), generator)) for _ in range(3)]
        rows.append(json.dumps({"text": " ".join(_words(length, generator)), "choices": choices, "label": 1}))
    return "\n".join(rows) + "\n"


def lm_text(n: int, seed: int = 0) -> str:
    generator = random.Random(seed)
    return "\n".join(" ".join(_words(length * 3, generator)) for length in _sentence_lengths(n, seed)) + "\n"


def squad_text(n: int, seed: int = 0) -> str:
    generator = random.Random(seed)
    paragraphs = []
    for number, length in enumerate(_sentence_lengths(n, seed)):
        context = " ".join(_words(length * 3, generator))
        answer = context.split()[0]
        qas = [{"id": f"q{number}", "question": "which word?", "answers": [{"text": answer, "answer_start": 0}]}]
        paragraphs.append({"context": context, "qas": qas})
    return json.dumps({"data": [{"title": "t", "paragraphs": paragraphs}]})


# task, checkpoint kind, file name, file text
CASES = [
    ("token_classification", "roberta", "ner.txt", bio_text),
    ("token_classification", "bert", "tags.conllu", conllu_text),
    ("dep_parsing", "bert", "trees.conllu", conllu_text),
    ("sequence_classification", "bert", "texts.csv", classification_text),
    ("multi_label_classification", "bert", "texts.jsonl", multi_label_text),
    ("regression", "bert", "scores.jsonl", regression_text),
    ("multiple_choice", "bert", "choice.jsonl", choice_text),
    ("extractive_qa", "bert", "squad.json", squad_text),
    ("masked_lm", "bert", "text.txt", lm_text),
    ("causal_lm", "gpt2", "text.txt", lm_text),
]
REAL_VALUED = ("regression", "masked_lm", "causal_lm")
"""Tasks whose predictions are real numbers, written in full."""


def _task_data(task: str, checkpoint: str, data_file: str) -> tuple[TaskData, torch.nn.Module]:
    config = RunConfiguration(
        task=task, model_name_or_path=checkpoint, eval_batch_size=4, max_seq_length=48, doc_stride=16
    )
    data = get_task_data(task, config, load_tokenizer(checkpoint))
    data.fit_labels(data.read(data_file))
    return data, load_model(config, data).eval()


def _in_file_order(data: TaskData, model: torch.nn.Module, data_file: str, output_file: str) -> dict[str, float]:
    """Predict the whole file at once in its own order, as ``archit predict`` did before it streamed."""
    examples = data.read(data_file)
    features = data.featurize(examples)
    with tempfile.TemporaryDirectory() as scratch:
        args = inference_arguments(data.config, scratch)
        trainer = ArchitTrainer(model=model, args=args, data_collator=data.collator(), task_data=data)
        outputs = trainer.predict(features)
    decoded = data.decode(named_predictions(data, outputs.predictions), features, examples)
    data.write_predictions(output_file, decoded, examples)
    return data.score(decoded, examples)


@pytest.mark.parametrize(("task", "kind", "name", "text"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_streamed_sorted_predictions_are_those_of_the_whole_file_in_order(
    tmp_path, checkpoints, task, kind, name, text
) -> None:
    data_file = tmp_path / name
    data_file.write_text(text(23), encoding="utf-8")
    data, model = _task_data(task, checkpoints[kind], str(data_file))
    torch.manual_seed(0)
    expected = _in_file_order(data, model, str(data_file), str(tmp_path / "expected"))

    # without the loss: the model is not given the gold labels, and predicts the same
    result = predict_file(data, model, str(data_file), lambda suffix: str(tmp_path / f"streamed{suffix}"), 5, False)

    assert result.n_examples == len(data.read(str(data_file))) and result.loss is None
    if task in REAL_VALUED:  # a real-valued prediction differs in its last bits when its batch pads otherwise
        streamed, whole = (_records(path) for path in (result.output_file, tmp_path / "expected"))
        assert [sorted(record) for record in streamed] == [sorted(record) for record in whole]
        for mine, theirs in zip(streamed, whole, strict=True):
            assert mine == {key: _close(value) for key, value in theirs.items()}
        assert result.scores == pytest.approx(expected, rel=1e-5, abs=1e-4)  # a random model: near-constant values
    else:
        assert Path(result.output_file).read_bytes() == (tmp_path / "expected").read_bytes()
        assert result.scores == expected
    assert expected  # every file has gold labels, so equal scores are real numbers


def _close(value):
    return pytest.approx(value, rel=1e-5) if isinstance(value, float) else value


def _records(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_the_loss_is_the_mean_of_the_batch_losses_over_the_file(tmp_path, checkpoints) -> None:
    """With the loss, it is the mean of the (length-sorted) batch losses weighted by examples, as the Trainer
    gives it; without, the model is not asked for it."""
    data_file = tmp_path / "ner.txt"
    data_file.write_text(bio_text(6), encoding="utf-8")
    data, model = _task_data("token_classification", checkpoints["bert"], str(data_file))
    features = data.featurize(data.read(str(data_file)))
    order = length_order(features)
    with torch.no_grad():
        losses = [float(model(**data.collator()([features[i] for i in part])).loss) for part in (order[:4], order[4:])]
    assert predict_file(data, model, str(data_file)).loss == pytest.approx((4 * losses[0] + 2 * losses[1]) / 6)
    assert predict_file(data, model, str(data_file), loss=False).loss is None


def test_batches_are_sorted_by_length() -> None:
    features = [{"input_ids": [0] * n} for n in (3, 7, 3, 1, 7)] + [{"input_ids": [[0] * 2, [0] * 9]}]
    assert length_order(features) == [5, 1, 4, 0, 2, 3]


def test_readers_stream_the_file(tmp_path, checkpoints) -> None:
    """A chunk is read without reading ahead: a malformed sentence past the first chunk fails only when its own
    chunk is reached."""
    broken = {
        "ner.txt": ("token_classification", bio_text(12) + "\nword\nwith TAG\n"),
        "tags.conllu": ("token_classification", conllu_text(12) + "1\tword\n\n"),
        "trees.conllu": ("dep_parsing", conllu_text(12) + "1\tword\n\n"),
        "texts.csv": ("sequence_classification", classification_text(12) + "a,b,c\n"),
    }
    for name, (task, text) in broken.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        config = RunConfiguration(task=task, model_name_or_path=checkpoints["bert"])
        chunks = get_task_data(task, config, load_tokenizer(checkpoints["bert"])).read_chunks(str(tmp_path / name), 5)
        assert [len(next(chunks)) for _ in range(2)] == [5, 5], name
        with pytest.raises(DataError, match=name):
            next(chunks)


def test_memory_holds_one_chunk(tmp_path, checkpoints) -> None:
    """Predicting a file of 10 chunks holds one chunk's examples and features at a time, counted among the live
    objects whenever a chunk is featurised, so memory does not grow with the file."""
    import gc

    data_file = tmp_path / "ner.txt"
    data_file.write_text(bio_text(400), encoding="utf-8")
    data, model = _task_data("token_classification", checkpoints["bert"], str(data_file))
    held: list[tuple[int, int]] = []
    featurize = data.featurize

    def counting(examples, training=False):
        live = [o for o in gc.get_objects() if isinstance(o, dict)]
        held.append((sum("words" in o and "line" in o for o in live), sum("word_ids" in o for o in live)))
        return featurize(examples, training)

    data.featurize = counting
    assert predict_file(data, model, str(data_file), chunk_size=40).n_examples == 400
    assert len(held) == 10 and {examples for examples, _ in held} == {40}
    # the previous chunk's features (its last reference goes when the new ones are made), the same at every chunk
    assert len({features for _, features in held[1:]}) == 1 and held[-1][1] < 2 * 40
