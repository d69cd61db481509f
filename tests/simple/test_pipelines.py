"""``pipeline("dependency-parsing", ...)``: registered by ``import archit``, fed pre-split words or raw text,
single or batched, long sentences windowed, results equal to the model's own decoding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, pipeline

from archit import ArchitFactory
from archit.errors import DataError
from archit.simple import RunConfiguration, run_simple
from archit.simple.data.tokenization import encode_words, load_tokenizer
from archit.simple.formats.conllu import read_conllu
from archit.simple.pipelines import DependencyParsingPipeline, split_words
from archit.simple.run import predict

FIXTURE = Path(__file__).parent.parent / "fixtures" / "en_tiny.conllu"
RELATIONS = ["<unk>", "root", "nsubj", "obj", "punct"]
SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran"], ["Paris"], ["John", "works", "in", "Acme"]]


def _save_parser(checkpoint: str, directory: Path) -> str:
    torch.manual_seed(0)
    model = ArchitFactory.from_pretrained(
        checkpoint, task="dep_parsing", num_labels=len(RELATIONS), id2label=dict(enumerate(RELATIONS))
    )
    model.save_pretrained(directory)
    load_tokenizer(checkpoint).save_pretrained(directory)
    return str(directory)


@pytest.fixture(scope="module")
def parsers(checkpoints, tmp_path_factory) -> dict[str, str]:
    """Directories of a tiny random RoBERTa and GPT-2 parser saved with save_pretrained, by kind."""
    root = tmp_path_factory.mktemp("parsers")
    return {kind: _save_parser(checkpoints[kind], root / kind) for kind in ("roberta", "gpt2")}


def _decoded_by_model(model, tokenizer, words: list[str]) -> tuple[list[int], list[str], int]:
    """Heads and relations from the model's forward pass on the whole, unpadded sentence, and its token count."""
    inputs, word_ids, _ = encode_words(tokenizer, words, 1_000_000)
    batch = {key: torch.tensor([values]) for key, values in inputs.items()}
    with torch.no_grad():
        outputs = model(**batch, word_ids=torch.tensor([[-1 if word is None else word for word in word_ids]]))
    relations = [model.config.id2label[int(label)] for label in outputs.rel_predictions[0]]
    return outputs.arc_predictions[0].tolist(), relations, len(inputs["input_ids"])


def _tree(parsed: list[dict]) -> tuple[list[int], list[str]]:
    return [word["head"] for word in parsed], [word["relation"] for word in parsed]


def test_import_archit_registers_the_task_without_importing_transformers() -> None:
    code = (
        "import sys, archit\n"
        "assert 'transformers' not in sys.modules and 'torch' not in sys.modules\n"
        "from transformers.pipelines import PIPELINE_REGISTRY\n"
        "print(PIPELINE_REGISTRY.get_supported_tasks().count('dependency-parsing'))\n"
        "import archit.simple.pipelines as p; p.register_pipeline()\n"  # registering again changes nothing
        "print(PIPELINE_REGISTRY.get_supported_tasks().count('dependency-parsing'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1", "1"]
    # transformers.pipelines imported first: importing archit registers at once
    code = (
        "import transformers.pipelines as t, archit; "
        "print('dependency-parsing' in t.PIPELINE_REGISTRY.get_supported_tasks())"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "True\n"


@pytest.mark.parametrize("kind", ["roberta", "gpt2"])
def test_pre_split_words_single_and_batched_equal_the_models_decoding(parsers, kind: str) -> None:
    # archit's own tokenizer loading: GPT-2's pads on the left
    tokenizer = load_tokenizer(parsers[kind])
    parser = pipeline("dependency-parsing", model=parsers[kind], tokenizer=tokenizer)
    assert isinstance(parser, DependencyParsingPipeline)
    single = [parser(words) for words in SENTENCES]
    batched = parser(SENTENCES, batch_size=3)  # padded: sentences of 1 to 6 words in one batch
    assert len(batched) == len(SENTENCES)
    for words, one, in_batch in zip(SENTENCES, single, batched, strict=True):
        heads, relations, _ = _decoded_by_model(parser.model, tokenizer, words)
        assert [word["word"] for word in one] == words
        assert [word["id"] for word in one] == list(range(1, len(words) + 1))
        assert _tree(one) == _tree(in_batch) == (heads, relations)
        for a, b in zip(one, in_batch, strict=True):
            assert a["head_score"] == pytest.approx(b["head_score"], abs=1e-5)
            assert a["relation_score"] == pytest.approx(b["relation_score"], abs=1e-5)
    # batches are padded on the right, as in training; the caller's tokenizer is untouched
    assert parser.tokenizer.padding_side == "right"
    assert tokenizer.padding_side == ("left" if kind == "gpt2" else "right")


def test_scores_are_the_probabilities_of_the_chosen_head_and_relation(parsers) -> None:
    parser = pipeline("dependency-parsing", model=parsers["roberta"])
    words = SENTENCES[0]
    tokenizer = parser.tokenizer
    inputs, word_ids, _ = encode_words(tokenizer, words, 1_000_000)
    with torch.no_grad():
        outputs = parser.model(
            **{key: torch.tensor([values]) for key, values in inputs.items()},
            word_ids=torch.tensor([[-1 if word is None else word for word in word_ids]]),
        )
    for index, word in enumerate(parser(words), 1):
        # the possible heads of word i: ROOT and every other word
        candidates = [head for head in range(len(words) + 1) if head != index]
        arc_probabilities = outputs.arc_logits[0, index, candidates].softmax(-1)
        assert word["head_score"] == pytest.approx(float(arc_probabilities[candidates.index(word["head"])]), abs=1e-6)
        rel_probabilities = outputs.rel_logits[0, index, word["head"]].softmax(-1)
        assert word["relation_score"] == pytest.approx(
            float(rel_probabilities[RELATIONS.index(word["relation"])]), abs=1e-6
        )
        assert max(rel_probabilities) == pytest.approx(word["relation_score"], abs=1e-6)


def test_raw_text_is_split_by_the_documented_rule_or_the_callers_splitter(parsers) -> None:
    assert split_words("Ankara Türkiye'nin başkentidir, don't (well-known) 3.5!") == [
        "Ankara", "Türkiye'nin", "başkentidir", ",", "don't", "(", "well-known", ")", "3", ".", "5", "!",
    ]  # fmt: skip
    parser = pipeline("dependency-parsing", model=parsers["roberta"])
    text = "the cat sat on the mat."
    assert _tree(parser(text)) == _tree(parser(["the", "cat", "sat", "on", "the", "mat", "."]))
    assert [word["word"] for word in parser(text, word_splitter=str.split)] == text.split()
    by_whitespace = pipeline("dependency-parsing", model=parsers["roberta"], word_splitter=str.split)
    assert [word["word"] for word in by_whitespace("a dog, ran")] == ["a", "dog,", "ran"]
    # a batch may mix raw texts and pre-split sentences
    mixed = parser(["a dog ran", ["Paris"]], batch_size=2)
    assert [[word["word"] for word in parsed] for parsed in mixed] == [["a", "dog", "ran"], ["Paris"]]
    # raw texts alone: an iterator (a list of strings is one sentence's words)
    streamed = parser(iter(["a dog ran", "Paris"]), batch_size=2)
    assert [[word["word"] for word in parsed] for parsed in streamed] == [["a", "dog", "ran"], ["Paris"]]


def test_long_sentence_is_windowed_as_in_training(parsers) -> None:
    parser = pipeline("dependency-parsing", model=parsers["roberta"])
    words = ("the cat sat on the mat and a dog ran in the park " * 8).split()
    heads, relations, n_tokens = _decoded_by_model(parser.model, parser.tokenizer, words)
    assert n_tokens > parser.model.backbone.max_length  # the backbone takes fewer tokens: the model windows them
    parsed = parser([words, SENTENCES[1]], batch_size=2)[0]
    assert len(parsed) == len(words) and _tree(parsed) == (heads, relations)


def test_run_directory_of_archit_train_gives_archit_predicts_trees(checkpoints, tmp_path) -> None:
    config = RunConfiguration(
        task="dep_parsing",
        model_name_or_path=checkpoints["roberta"],
        output_dir=str(tmp_path / "run"),
        train_file=str(FIXTURE),
        max_steps=2,
        train_batch_size=4,
        eval_strategy="no",
        progress_bars=False,
        head_options={"arc_mlp_size": 16, "label_mlp_size": 8},
    )
    result = run_simple(config)
    predictions, _ = predict(result.output_dir, str(FIXTURE), str(tmp_path / "predicted.conllu"))
    expected = read_conllu(predictions)
    for model in (result.model_dir, os.path.join(result.output_dir, "model")):
        parser = pipeline("dependency-parsing", model=model)
        parsed = parser([sentence.forms for sentence in expected], batch_size=4)
        assert [_tree(words) for words in parsed] == [(s.heads, s.deprels) for s in expected]
    # the run directory itself, through transformers' own subfolder option
    parser = pipeline("dependency-parsing", model=result.output_dir, model_kwargs={"subfolder": "model"})
    assert _tree(parser(expected[0].forms)) == (expected[0].heads, expected[0].deprels)


def test_errors_say_what_to_do(parsers, checkpoints, tmp_path) -> None:
    parser = pipeline("dependency-parsing", model=parsers["roberta"])
    with pytest.raises(DataError, match="a sentence needs at least one word"):
        parser(" \t ")
    with pytest.raises(DataError, match="A sentence is a list of words"):
        parser([["a", 3]])
    with pytest.raises(TypeError, match=r"unknown options \['wordsplitter'\]; it takes word_splitter"):
        parser("a dog", wordsplitter=str.split)
    tagger = ArchitFactory.from_pretrained(checkpoints["roberta"], task="token_classification", num_labels=3)
    with pytest.raises(DataError, match="needs an archit ForDependencyParsing model, found ForSingleLabelToken"):
        pipeline("dependency-parsing", model=tagger, tokenizer=AutoTokenizer.from_pretrained(checkpoints["roberta"]))
