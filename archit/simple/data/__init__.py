"""Task data from local files: readers, tokenisation with word-label alignment, collators, and one
:class:`TaskData` per task that reads, featurises, decodes, scores and writes predictions."""

from archit.simple.data.base import (
    TASK_DATA,
    Example,
    Feature,
    TaskData,
    get_task_data,
    register_task_data,
    registered_tasks,
    task_data_class,
)
from archit.simple.data.choice import MultipleChoiceData
from archit.simple.data.classification import SequenceClassificationData
from archit.simple.data.collate import Collator, pad_nested
from archit.simple.data.files import read_jsonl, read_records
from archit.simple.data.language_modeling import LanguageModelingCollator, LanguageModelingData
from archit.simple.data.parsing import DependencyParsingData
from archit.simple.data.qa import ExtractiveQAData, read_squad
from archit.simple.data.tagging import TokenClassificationData, read_bio
from archit.simple.data.tokenization import (
    align_labels,
    cut_blocks,
    encode_word_lists,
    encode_words,
    first_piece_positions,
    load_tokenizer,
)

__all__ = [
    "TASK_DATA",
    "Collator",
    "DependencyParsingData",
    "Example",
    "ExtractiveQAData",
    "Feature",
    "LanguageModelingCollator",
    "LanguageModelingData",
    "MultipleChoiceData",
    "SequenceClassificationData",
    "TaskData",
    "TokenClassificationData",
    "align_labels",
    "cut_blocks",
    "encode_word_lists",
    "encode_words",
    "first_piece_positions",
    "get_task_data",
    "load_tokenizer",
    "pad_nested",
    "read_bio",
    "read_jsonl",
    "read_records",
    "read_squad",
    "register_task_data",
    "registered_tasks",
    "task_data_class",
]
