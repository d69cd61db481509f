"""Training batches grouped by length: every example once, batches of similar lengths, the run option."""

from __future__ import annotations

import pytest
import torch

from archit.simple.config import RunConfiguration
from archit.simple.data.length_grouping import BatchCollator, LengthGroupedBatches

LENGTHS = [7, 1, 30, 4, 12, 9, 2, 25, 3, 16, 5, 8, 11, 6, 20, 14, 10, 13, 2, 18]


def _features() -> list[dict[str, list[int]]]:
    return [{"input_ids": [index] * length} for index, length in enumerate(LENGTHS)]


def test_every_example_comes_once_in_batches_sorted_within_their_group() -> None:
    batches = LengthGroupedBatches(_features(), batch_size=3, seed=0, group_batches=2)
    # groups of 6 examples: batches of 3, 3 per group; 20 examples -> 3 full groups and one of 2
    assert [len(batches[index]) for index in range(len(batches))] == [3, 3, 3, 3, 3, 3, 2]
    seen = sorted(feature["input_ids"][0] for batch in batches.batches for feature in batch)
    assert seen == list(range(len(LENGTHS)))
    for first in range(0, 6, 2):
        group = [len(feature["input_ids"]) for batch in batches.batches[first : first + 2] for feature in batch]
        assert group == sorted(group)


def test_grouping_cuts_padding_and_depends_on_the_seed() -> None:
    grouped = LengthGroupedBatches(_features(), batch_size=4, seed=1, group_batches=5)
    # one group of everything: each batch holds consecutive lengths of the sorted list
    padded = sum(len(batch) * max(len(feature["input_ids"]) for feature in batch) for batch in grouped.batches)
    assert padded == sum(4 * max(chunk) for chunk in (sorted(LENGTHS)[i : i + 4] for i in range(0, 20, 4)))
    small = [LengthGroupedBatches(_features(), batch_size=4, seed=seed, group_batches=1) for seed in (1, 2)]
    assert [b[0]["input_ids"][0] for b in small[0].batches] != [b[0]["input_ids"][0] for b in small[1].batches]


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
