"""CoNLL-U reading, writing and label vocabulary, on the hand-written fixture and malformed variants."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from archit.errors import DataError
from archit.simple.formats.conllu import (
    ConlluSentence,
    LabelVocabulary,
    format_conllu,
    iter_conllu,
    parse_conllu,
    read_conllu,
    write_conllu,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "en_tiny.conllu"


@pytest.fixture(scope="module")
def sentences() -> list[ConlluSentence]:
    return read_conllu(FIXTURE)


def test_reader_keeps_words_and_skips_multiword_tokens_and_empty_nodes(sentences: list[ConlluSentence]) -> None:
    assert len(sentences) == 11
    first = sentences[0]
    assert first.ids == [1, 2, 3, 4, 5, 6, 7]
    assert first.forms == ["The", "cat", "sat", "on", "the", "mat", "."]
    assert first.upos == ["DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]
    assert first.heads == [2, 3, 0, 6, 6, 3, 3]
    assert first.deprels == ["det", "nsubj", "root", "case", "det", "obl", "punct"]
    assert first.comments == ["# newdoc id = archit-en-tiny", "# sent_id = tiny-01", "# text = The cat sat on the mat."]
    contraction = sentences[1]
    assert contraction.forms == ["I", "do", "n't", "know", "."]
    assert any(line.startswith("2-3\tdon't\t") for line in contraction.lines)
    gapping = sentences[2]
    assert gapping.ids == list(range(1, 8)) and gapping.heads == [2, 0, 2, 5, 2, 5, 2]
    assert any(line.startswith("5.1\tlikes\t") for line in gapping.lines)
    assert sentences[4].deprels[1] == "nsubj:pass"


def test_round_trip_is_byte_identical(sentences: list[ConlluSentence], tmp_path: Path) -> None:
    assert format_conllu(sentences) == FIXTURE.read_text(encoding="utf-8")
    out = tmp_path / "copy.conllu"
    write_conllu(out, sentences)
    assert out.read_bytes() == FIXTURE.read_bytes()
    gold_as_predictions = [s.with_predictions(s.heads, s.deprels) for s in sentences]
    write_conllu(out, gold_as_predictions)
    assert out.read_bytes() == FIXTURE.read_bytes()


def test_predictions_replace_only_head_and_deprel(sentences: list[ConlluSentence], tmp_path: Path) -> None:
    gapping = sentences[2]
    heads = [2, 0, 2, 2, 2, 5, 2]
    deprels = ["nsubj", "root", "obj", "cc", "conj", "obj", "punct"]
    predicted = gapping.with_predictions(heads, deprels)
    assert gapping.heads == [2, 0, 2, 5, 2, 5, 2]  # the original is unchanged
    out = tmp_path / "pred.conllu"
    write_conllu(out, [predicted])
    (reread,) = read_conllu(out)
    assert reread.heads == heads and reread.deprels == deprels
    assert len(reread.lines) == len(gapping.lines)
    for old, new in zip(gapping.lines, reread.lines, strict=True):
        old_columns, new_columns = old.split("\t"), new.split("\t")
        if old.startswith("#") or not old_columns[0].isdigit():
            assert old == new
        else:
            assert old_columns[:6] + old_columns[8:] == new_columns[:6] + new_columns[8:]
    with pytest.raises(DataError, match="7 words got 2 heads"):
        gapping.with_predictions([0, 1], ["root", "dep"])


def test_sentence_built_in_code_is_written_with_underscores() -> None:
    sentence = ConlluSentence([1, 2], ["Hello", "!"], ["INTJ", "PUNCT"], [0, 1], ["root", "punct"])
    assert sentence.to_conllu() == "1\tHello\t_\tINTJ\t_\t_\t0\troot\t_\t_\n2\t!\t_\tPUNCT\t_\t_\t1\tpunct\t_\t_\n\n"
    assert parse_conllu(sentence.to_conllu())[0].heads == [0, 1]


def _replace_line(number: int, new: str) -> str:
    lines = FIXTURE.read_text(encoding="utf-8").split("\n")
    lines[number - 1] = new
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("line", "new", "message"),
    [
        (5, "2 cat cat NOUN NN Number=Sing 3 nsubj _ _", "line 5: expected 10 tab-separated columns, found 1"),
        (5, "2\tcat\tcat\tNOUN\tNN\tNumber=Sing\tthree\tnsubj\t_\t_", r"line 5: HEAD \(column 7\) must be an integer"),
        (5, "2\tcat\tcat\tNOUN\tNN\tNumber=Sing\t8\tnsubj\t_\t_", "line 5: HEAD 8 is out of range"),
        (5, "2\tcat\tcat\tNOUN\tNN\tNumber=Sing\t1\tnsubj\t_\t_", r"line 4: the words \[1, 2\] form a cycle"),
        (6, "3\tsat\tsit\tVERB\tVBD\t_\t2\troot\t_\t_", "line 4: the sentence starting here has no root"),
        (5, "3\tcat\tcat\tNOUN\tNN\tNumber=Sing\t3\tnsubj\t_\t_", "line 5: expected word id 2, found '3'"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path: Path, line: int, new: str, message: str) -> None:
    bad = tmp_path / "bad.conllu"
    bad.write_text(_replace_line(line, new), encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        read_conllu(bad)
    assert str(bad) in str(error.value)


def test_missing_file_and_wordless_block() -> None:
    with pytest.raises(DataError, match="no such CoNLL-U file"):
        next(iter_conllu("/nonexistent/x.conllu"))
    with pytest.raises(DataError, match="<string>, line 1: a sentence block without any word"):
        parse_conllu("# just a comment\n\n")


def test_label_vocabulary_from_training_data(sentences: list[ConlluSentence]) -> None:
    vocab = LabelVocabulary.from_sentences(sentences[:5])
    assert vocab.labels[0] == "<unk>" and vocab.unk_id == 0
    assert list(vocab.labels[1:]) == sorted(vocab.labels[1:])
    assert "nsubj:pass" in vocab and "xcomp" not in vocab
    assert LabelVocabulary(vocab.labels) == vocab and len({vocab, LabelVocabulary(vocab.labels)}) == 1
    assert vocab.id2label[1] == vocab.labels[1] and vocab.label2id[vocab.labels[1]] == 1
    ids = vocab.encode(sentences[0].deprels)
    assert vocab.decode(ids) == sentences[0].deprels
    with pytest.raises(DataError, match="Label id 99 is outside"):
        vocab.decode([99])


def test_unseen_labels_map_to_unknown_with_one_warning(sentences: list[ConlluSentence]) -> None:
    vocab = LabelVocabulary.from_sentences(sentences[:5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = vocab.encode_sentences(sentences)
    assert len(caught) == 1
    unseen = [d for s in sentences for d in s.deprels if d not in vocab]
    assert str(caught[0].message).startswith(f"{len(unseen)} relations of {len(set(unseen))} labels unseen")
    assert "'xcomp' (1)" in str(caught[0].message)
    assert sum(i == 0 for sentence_ids in ids for i in sentence_ids) == len(unseen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vocab.encode(sentences[0].deprels)
