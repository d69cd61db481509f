"""Words that tokenize to nothing (a zero-width space, a soft hyphen: BERT's normaliser strips both) train and
predict through ``archit train`` and ``archit predict``, each counted in the run log and given the unknown token."""

from __future__ import annotations

import json
import logging

import pytest

from archit.simple.cli import main
from archit.simple.formats.conllu import read_conllu
from tests.simple.conftest import write

ZERO_WIDTH_SPACE, SOFT_HYPHEN = "\u200b", "\u00ad"

# the zero-width space is a word of its own (attached to "cat"), and so is the soft hyphen, the last word
TREEBANK = f"""# sent_id = awkward-1
# text = The cat {ZERO_WIDTH_SPACE} sat {SOFT_HYPHEN}
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\tNN\t_\t4\tnsubj\t_\t_
3\t{ZERO_WIDTH_SPACE}\t{ZERO_WIDTH_SPACE}\tSYM\tNFP\t_\t2\tdep\t_\t_
4\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\t_
5\t{SOFT_HYPHEN}\t{SOFT_HYPHEN}\tPUNCT\tHYPH\t_\t4\tpunct\t_\t_

# sent_id = plain-2
# text = a dog ran
1\ta\ta\tDET\tDT\t_\t2\tdet\t_\t_
2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_
3\tran\trun\tVERB\tVBD\t_\t0\troot\t_\t_

"""

BIO = f"John B-PER\n{ZERO_WIDTH_SPACE} O\nSmith I-PER\nruns O\n{SOFT_HYPHEN} O\n\nParis B-LOC\n"


def _train_and_predict(tmp_path, checkpoint: str, task: str, data_file: str, caplog) -> str:
    output_dir = tmp_path / "run"
    options = ["--task", task, "--model-name-or-path", checkpoint, "--train-file", data_file]
    options += ["--validation-file", data_file, "--output-dir", str(output_dir), "--max-steps", "2"]
    options += ["--train-batch-size", "2", "--eval-strategy", "no", "--no-progress-bars"]
    if task == "dep_parsing":
        options += ["--head-option", "arc_mlp_size=16", "--head-option", "label_mlp_size=8"]
    with caplog.at_level(logging.WARNING, logger="archit"):
        assert main(["train", *options]) == 0
    # training and validation each count the two words, once per data set
    counts = [record.getMessage() for record in caplog.records if "tokenize to nothing" in record.getMessage()]
    assert len(counts) == 2 and all(message.startswith("2 of ") for message in counts), counts
    assert "BertTokenizer" in counts[0] and "[UNK]" in counts[0] and "(sentence at line 1)" in counts[0]
    predictions = str(tmp_path / f"predictions{'.conllu' if data_file.endswith('.conllu') else '.jsonl'}")
    assert main(["predict", str(output_dir), "--data", data_file, "--output", predictions]) == 0
    return predictions


def test_a_parser_trains_and_predicts_on_words_that_tokenize_to_nothing(tmp_path, checkpoints, caplog) -> None:
    data_file = write(tmp_path / "awkward.conllu", TREEBANK)
    predictions = _train_and_predict(tmp_path, checkpoints["bert"], "dep_parsing", data_file, caplog)
    gold, predicted = read_conllu(data_file), read_conllu(predictions)
    assert [sentence.forms for sentence in predicted] == [sentence.forms for sentence in gold]
    assert [len(sentence.heads) for sentence in predicted] == [5, 3]
    assert all(0 <= head <= len(sentence) for sentence in predicted for head in sentence.heads)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert 0.0 <= metrics["validation"]["uas"] <= 1.0


@pytest.mark.parametrize(("name", "content"), [("awkward.conllu", TREEBANK), ("awkward.txt", BIO)])
def test_a_tagger_trains_and_predicts_on_words_that_tokenize_to_nothing(
    tmp_path, checkpoints, caplog, name, content
) -> None:
    data_file = write(tmp_path / name, content)
    predictions = _train_and_predict(tmp_path, checkpoints["bert"], "token_classification", data_file, caplog)
    if name.endswith(".conllu"):
        assert [len(sentence.upos) for sentence in read_conllu(predictions)] == [5, 3]
    else:
        with open(predictions, encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
        assert [len(record["prediction"]) for record in records] == [5, 1]


def test_question_answering_reads_contexts_with_characters_that_tokenize_to_nothing(tmp_path, tokenizers) -> None:
    """QA maps answers through character offsets, so stripped characters need no stand-in: the answer is still
    found, even one that holds a soft hyphen, and an answer of stripped characters alone does not abort."""
    from archit.simple.config import RunConfiguration
    from archit.simple.data import get_task_data

    context = f"John {ZERO_WIDTH_SPACE} works in Par{SOFT_HYPHEN}is {SOFT_HYPHEN} today."
    # (text, where it starts): the city with its soft hyphen, and the lone soft hyphen before "today"
    answers = {"q1": (f"Par{SOFT_HYPHEN}is", context.index("Par")), "q2": (SOFT_HYPHEN, context.index(" today") - 1)}
    squad = {
        "version": "v2.0",
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": key,
                                "question": "Where?",
                                "answers": [{"text": text, "answer_start": start}],
                            }
                            for key, (text, start) in answers.items()
                        ],
                    }
                ],
            }
        ],
    }
    path = write(tmp_path / "squad.json", json.dumps(squad))
    config = RunConfiguration(task="extractive_qa", model_name_or_path="unused", max_seq_length=40, doc_stride=8)
    data = get_task_data("extractive_qa", config, tokenizers["wordpiece"])
    features = data.featurize(data.read(path))
    span = features[0]["input_ids"][features[0]["start_positions"] : features[0]["end_positions"] + 1]
    assert data.tokenizer.decode(span).replace(" ", "") == "paris"
    assert 0 <= features[1]["start_positions"] <= features[1]["end_positions"] < len(features[1]["input_ids"])
