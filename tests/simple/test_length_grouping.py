"""Training batches grouped by length: every example once, batches of similar lengths, the run option."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import pytest
import torch

from archit.simple import run as run_module
from archit.simple.config import RunConfiguration
from archit.simple.data.length_grouping import BatchCollator, LengthGroupedBatches, equal_token_cuts
from archit.simple.run import run_simple
from archit.simple.training import EpochToTrainingData
from tests.simple.test_prediction import bio_text

LENGTHS = [7, 1, 30, 4, 12, 9, 2, 25, 3, 16, 5, 8, 11, 6, 20, 14, 10, 13, 2, 18]


def _features() -> list[dict[str, list[int]]]:
    return [{"input_ids": [index] * length} for index, length in enumerate(LENGTHS)]


def test_every_example_comes_once_in_batches_sorted_within_their_group() -> None:
    batches = LengthGroupedBatches(_features(), batch_size=3, seed=0, group_batches=2)
    # groups of 6 examples cut into 2 batches each; 20 examples -> 3 full groups and one of 2 (one batch)
    assert len(batches) == 7
    seen = sorted(feature["input_ids"][0] for batch in batches.batches for feature in batch)
    assert seen == list(range(len(LENGTHS)))
    for first in range(0, 6, 2):
        group = [len(feature["input_ids"]) for batch in batches.batches[first : first + 2] for feature in batch]
        assert group == sorted(group)


def test_batches_of_a_group_hold_about_equal_tokens() -> None:
    grouped = LengthGroupedBatches(_features(), batch_size=4, seed=1, group_batches=5)
    # one group of everything, sorted, cut into 5 batches: short sentences share a batch, long ones do not
    lengths = [[len(feature["input_ids"]) for feature in batch] for batch in grouped.batches]
    assert sum(lengths, []) == sorted(LENGTHS)
    assert len(lengths) == 5 and len(lengths[0]) > 4 > len(lengths[-1])
    # each cut sits where the tokens before it come nearest to an equal share
    cuts = list(itertools.accumulate(len(batch) for batch in lengths))[:-1]
    prefix = [0, *itertools.accumulate(sorted(LENGTHS))]
    for part, cut in enumerate(cuts, start=1):
        target = prefix[-1] * part / 5
        assert abs(prefix[cut] - target) == min(abs(total - target) for total in prefix)


@pytest.mark.parametrize(
    ("lengths", "n_parts", "cuts"),
    [
        ([5, 5, 5, 5], 2, [0, 2, 4]),
        ([1, 1, 1, 1, 1, 1, 6], 2, [0, 6, 7]),
        ([1, 1, 10, 10], 4, [0, 1, 2, 3, 4]),  # every part keeps one example
        ([100, 1, 1], 3, [0, 1, 2, 3]),
        ([3, 4], 1, [0, 2]),
    ],
)
def test_equal_token_cuts(lengths, n_parts, cuts) -> None:
    assert equal_token_cuts(lengths, n_parts) == cuts


def test_grouping_cuts_padding_and_depends_on_the_seed() -> None:
    grouped = LengthGroupedBatches(_features(), batch_size=4, seed=1, group_batches=5)
    padded = sum(len(batch) * max(len(feature["input_ids"]) for feature in batch) for batch in grouped.batches)
    assert padded < 0.7 * len(LENGTHS) * max(LENGTHS)  # a random batch of 20 pads all to 30
    small = [LengthGroupedBatches(_features(), batch_size=4, seed=seed, group_batches=1) for seed in (1, 2)]
    assert [b[0]["input_ids"][0] for b in small[0].batches] != [b[0]["input_ids"][0] for b in small[1].batches]


def _example_ids(batches: list[list[dict[str, list[int]]]]) -> list[list[int]]:
    return [[feature["input_ids"][0] for feature in batch] for batch in batches]


def test_every_epoch_draws_new_batches_of_every_example() -> None:
    grouped = LengthGroupedBatches(_features(), batch_size=3, seed=0, group_batches=2)
    first = _example_ids(grouped.batches)
    grouped.set_epoch(1)
    second = _example_ids(grouped.batches)
    assert second != first and len(second) == len(first)
    assert sorted(sum(second, [])) == list(range(len(LENGTHS)))
    grouped.set_epoch(0)  # an epoch's batches depend on the seed and the epoch alone (a resumed run gets them)
    assert _example_ids(grouped.batches) == first


def test_the_epoch_callback_tells_the_batches_their_epoch() -> None:
    # accelerate forwards the Trainer's set_epoch to the dataset on one process only; the callback on every one
    grouped = LengthGroupedBatches(_features(), batch_size=3, seed=0, group_batches=2)
    first = _example_ids(grouped.batches)
    control = object()
    assert EpochToTrainingData([grouped]).on_epoch_begin(None, SimpleNamespace(epoch=1.0), control) is control
    assert grouped.epoch == 1 and _example_ids(grouped.batches) != first


def test_a_run_regroups_its_batches_every_epoch(tmp_path, checkpoints, monkeypatch, capsys) -> None:
    seen: dict[int, list[list[int]]] = {}

    class Recording(LengthGroupedBatches):
        def __init__(self, features, batch_size, seed) -> None:
            # groups of 8 of the 26 examples: one group of all would sort them into the same batches every epoch
            super().__init__(features, batch_size, seed, group_batches=2)

        def __getitem__(self, index: int) -> list:
            batch = super().__getitem__(index)
            position = {id(feature): k for k, feature in enumerate(self.features)}
            seen.setdefault(self.epoch, []).append([position[id(feature)] for feature in batch])
            return batch

    monkeypatch.setattr(run_module, "LengthGroupedBatches", Recording)
    (tmp_path / "train.txt").write_text(bio_text(26), encoding="utf-8")
    config = RunConfiguration(
        task="token_classification",
        model_name_or_path=checkpoints["bert"],
        train_file=str(tmp_path / "train.txt"),
        output_dir=str(tmp_path / "run"),
        num_epochs=2,
        train_batch_size=4,
        save_strategy="no",
        progress_bars=False,
    )
    train = run_simple(config).metrics["train"]
    # the Trainer counts a grouped batch as one sample (7 an epoch: 2 + 2 + 2 + 1); the reported rate counts
    # examples, 26 an epoch
    assert train["train_samples_per_second"] * train["train_runtime"] == pytest.approx(52, rel=0.01)
    # the Trainer's own log line (printed without progress bars; transformers 5 prints 4 significant digits)
    # gives the same rate
    printed = re.findall(r"'train_samples_per_second': '?([0-9.e+-]+)", capsys.readouterr().out)
    assert [float(rate) for rate in printed] == [pytest.approx(train["train_samples_per_second"], rel=1e-3)]
    assert sorted(seen) == [0, 1]
    for batches in seen.values():
        assert sorted(sum(batches, [])) == list(range(26))  # every example once an epoch
    assert sorted(map(sorted, seen[0])) != sorted(map(sorted, seen[1]))


def test_the_batch_collator_takes_a_whole_batch_or_loose_features() -> None:
    def collate(features):
        return {"input_ids": torch.tensor([len(feature["input_ids"]) for feature in features])}

    collator = BatchCollator(collate)
    features = _features()[:3]
    assert collator([features])["input_ids"].tolist() == collator(features)["input_ids"].tolist() == [7, 1, 30]


@pytest.mark.parametrize(
    ("task", "option", "grouped"),
    [
        ("dep_parsing", None, True),
        ("token_classification", None, True),
        ("sequence_classification", None, False),
        ("dep_parsing", "false", False),
        ("sequence_classification", "yes", True),
    ],
)
def test_group_by_length_is_on_by_default_for_word_level_tasks(task, option, grouped) -> None:
    values = {"task": task, "model_name_or_path": "some/checkpoint"}
    if option is not None:
        values["group_by_length"] = option
    assert RunConfiguration.from_dict(values).groups_by_length is grouped
