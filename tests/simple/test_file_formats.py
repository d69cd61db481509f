"""Data files as people have them: byte-order marks, CRLF and mixed line ends, other encodings, CSV quoting and
delimiters; for every reader, and end to end through ``archit train``, ``predict`` and ``evaluate``."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from archit.errors import DataError
from archit.simple.cli import main
from archit.simple.config import RunConfiguration, RunConfigurationError
from archit.simple.data import get_task_data, read_records
from archit.simple.data.conllu import read_conllu, write_conllu
from tests.simple.tasks import FIXTURES

SQUAD_CONTEXT = "José works for Café Zürich in Paris. The cat sat on the mat."
SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "café",
            "paragraphs": [
                {
                    "context": SQUAD_CONTEXT,
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Where is Café Zürich?",
                            "answers": [{"text": "Paris", "answer_start": SQUAD_CONTEXT.index("Paris")}],
                        },
                        {"id": "q2", "question": "Who owns the dog?", "answers": [], "is_impossible": True},
                    ],
                }
            ],
        }
    ],
}
CONLLU = (
    "# sent_id = 1\n# text = Café opens.\n"
    "1\tCafé\tcafé\tPROPN\t_\t_\t2\tnsubj\t_\t_\n"
    "2\topens\topen\tVERB\t_\t_\t0\troot\t_\tSpaceAfter=No\n"
    "3\t.\t.\tPUNCT\t_\t_\t2\tpunct\t_\t_\n"
    "\n"
    "# sent_id = 2\n"
    "1\tZürich\tZürich\tPROPN\t_\t_\t3\tnsubj\t_\t_\n"
    "2\tis\tbe\tAUX\t_\t_\t3\tcop\t_\t_\n"
    "3\tbig\tbig\tADJ\t_\t_\t0\troot\t_\t_\n"
    "\n"
)

# reader kind: (task, file name, the file's text); each text holds Latin-1 letters outside ASCII
READERS = {
    "csv": (
        "sequence_classification",
        "data.csv",
        'text,label\ncafé au lait,yes\n"two lines,\nwith ""quotes""",no\nnaïve,yes\n',
    ),
    "tsv": ("sequence_classification", "data.tsv", 'text\tlabel\ncafé au lait\tyes\nsay "hi" in Zürich\tno\n'),
    "jsonl": (
        "sequence_classification",
        "data.jsonl",
        '{"text": "café au lait", "label": "yes"}\n{"text": "Zürich", "label": "no"}\n',
    ),
    "choice": (
        "multiple_choice",
        "choice.jsonl",
        '{"text": "café", "choices": ["au lait", "Zürich"], "label": 0}\n{"text": "naïve", "choices": ["x", "y"]}\n',
    ),
    "squad": ("extractive_qa", "squad.json", json.dumps(SQUAD, indent=1, ensure_ascii=False) + "\n"),
    "bio": (
        "token_classification",
        "ner.txt",
        "-DOCSTART- O\n\nJosé B-PER\nlives O\nin O\nZürich B-LOC\n\nCafé B-ORG\n",
    ),
    "conllu-tags": ("token_classification", "tags.conllu", CONLLU),
    "conllu-trees": ("dep_parsing", "trees.conllu", CONLLU),
    "text": ("masked_lm", "text.txt", "café au lait\nZürich is big\n\nnaïve\n"),
}


def mixed_line_ends(text: str) -> str:
    """CRLF and LF taking turns."""
    lines = text.split("\n")
    return "".join(line + ("\r\n" if index % 2 else "\n") for index, line in enumerate(lines[:-1])) + lines[-1]


# variant: (its bytes from the text, the encoding to read it with)
VARIANTS = {
    "bom": (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8"),
    "crlf": (lambda text: text.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
    "mixed": (lambda text: mixed_line_ends(text).encode("utf-8"), "utf-8"),
    "bom-crlf": (lambda text: codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
    "latin-1": (lambda text: mixed_line_ends(text).encode("latin-1"), "latin-1"),
    "utf-16": (lambda text: text.replace("\n", "\r\n").encode("utf-16"), "utf-16"),
}


def config(task: str, **overrides) -> RunConfiguration:
    return RunConfiguration(task=task, model_name_or_path="unused", **overrides)


def read(task: str, path: Path, tokenizer, **overrides) -> list[dict]:
    return get_task_data(task, config(task, **overrides), tokenizer).read(str(path))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", READERS)
def test_every_reader_reads_every_variant_as_plain_utf8(tmp_path, tokenizers, kind, variant) -> None:
    task, name, text = READERS[kind]
    (tmp_path / "plain").mkdir()
    plain = tmp_path / "plain" / name
    plain.write_bytes(text.encode("utf-8"))
    expected = read(task, plain, tokenizers["wordpiece"])
    to_bytes, encoding = VARIANTS[variant]
    path = tmp_path / name
    path.write_bytes(to_bytes(text))
    assert read(task, path, tokenizers["wordpiece"], encoding=encoding) == expected


@pytest.mark.parametrize("kind", READERS)
def test_latin1_without_the_option_names_line_byte_and_option(tmp_path, tokenizers, kind) -> None:
    task, name, text = READERS[kind]
    raw = mixed_line_ends(text).encode("latin-1")
    path = tmp_path / name
    path.write_bytes(raw)
    offset = next(index for index, byte in enumerate(raw) if byte >= 0x80)
    line = raw[:offset].count(b"\n") + 1
    with pytest.raises(DataError) as error:
        read(task, path, tokenizers["wordpiece"])
    assert str(error.value) == (
        f"{path}, line {line}: not valid utf-8 (byte 0x{raw[offset]:02x} at byte offset {offset}); pass --encoding "
        "latin-1 or the file's own encoding."
    )


@pytest.mark.parametrize(
    ("raw", "encoding", "message"),
    [
        # the mark counts in the offset; \r\n, \n and a lone \r each end a line
        (codecs.BOM_UTF8 + b"ab\r\ncd\r\x81\n", "utf-8", "line 3: not valid utf-8 (byte 0x81 at byte offset 10)"),
        ("text\n".encode("utf-16"), "utf-8", "pass --encoding utf-16 (the file starts with a UTF-16 byte-order mark)"),
        (
            "text\ncafé\n".encode(),
            "ascii",
            "line 2: not valid ascii (byte 0xc3 at byte offset 8); pass --encoding utf-8",
        ),
        (
            "“hi” €5\n".encode("cp1252"),
            "utf-8",
            "line 1: not valid utf-8 (byte 0x93 at byte offset 0); pass --encoding cp1252",
        ),
        (b"text\n\x81\n", "cp1252", "line 2: not valid cp1252 (byte 0x81 at byte offset 5); pass --encoding latin-1"),
        (b"text\n", "klingon", "'klingon' is not a text encoding Python knows"),
        (b"text\n", "base64", "'base64' is not a text encoding Python knows"),
    ],
)
def test_decoding_errors(tmp_path, raw, encoding, message) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(raw)
    with pytest.raises(DataError) as error:
        read_records(str(path), encoding=encoding)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_csv_quoted_fields_hold_delimiters_line_breaks_and_quotes(tmp_path) -> None:
    text = 'text,label\n"a, b",x\n"two\nlines",y\n"say ""hi""",z\n\nlast,w\n'
    for line_end in ("\n", "\r\n"):
        path = tmp_path / "quoted.csv"
        path.write_bytes(text.replace("\n", line_end).encode("utf-8"))
        assert read_records(str(path)) == [
            (2, {"text": "a, b", "label": "x"}),
            (3, {"text": "two\nlines", "label": "y"}),  # a record's line is the one it starts on
            (5, {"text": 'say "hi"', "label": "z"}),
            (7, {"text": "last", "label": "w"}),
        ]


@pytest.mark.parametrize(
    ("name", "text", "message", "delimiter"),
    [
        (
            "commas.tsv",
            "text,label\na,b\n",
            "commas.tsv, line 1: the header row reads as one column, 'text,label', which holds a comma: the file is "
            "separated by a comma, not by a tab. Pass --delimiter ','.",
            ",",
        ),
        (
            "tabs.csv",
            "text\tlabel\na\tb\n",
            "tabs.csv, line 1: the header row reads as one column, 'text\\tlabel', which holds a tab: the file is "
            "separated by a tab, not by a comma. Pass --delimiter tab.",
            "\t",
        ),
        (
            "excel.csv",
            "text;label\na;b\n",
            "excel.csv, line 1: the header row reads as one column, 'text;label', which holds a semicolon: the file "
            "is separated by a semicolon, not by a comma. Pass --delimiter ';'.",
            ";",
        ),
    ],
)
def test_wrong_delimiter_is_named_and_the_option_reads_it(tmp_path, name, text, message, delimiter) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_records(str(path))
    assert str(error.value) == f"{tmp_path}/{message}"
    assert read_records(str(path), delimiter=delimiter) == [(2, {"text": "a", "label": "b"})]


def test_tsv_fields_are_literal_whatever_the_delimiter(tmp_path) -> None:
    path = tmp_path / "glue.tsv"
    path.write_text('text,label\n"quoted" start,x\n', encoding="utf-8")
    assert read_records(str(path), delimiter=",") == [(2, {"text": '"quoted" start', "label": "x"})]


def test_missing_column_lists_the_columns_without_invisible_characters(tmp_path, tokenizers) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(codecs.BOM_UTF8 + "Text,label\u200b\r\ncafé,yes\r\n".encode())
    with pytest.raises(DataError) as error:
        read("sequence_classification", path, tokenizers["wordpiece"])
    assert str(error.value) == (
        f"{path}, line 2: no value in column 'text'; the record has 'Text', 'label\\u200b'. Did you mean 'Text'? "
        "Name the right column in the run configuration."
    )


def test_delimiter_and_encoding_options(tmp_path) -> None:
    for spelling in ("tab", "TAB", "\\t", "\t"):
        assert config("regression", delimiter=spelling).delimiter == "\t"
    assert config("regression", delimiter=";").delimiter == ";" and config("regression").delimiter is None
    with pytest.raises(RunConfigurationError, match="delimiter must be one character other than a quote"):
        config("regression", delimiter=";;")
    with pytest.raises(RunConfigurationError, match="delimiter must be one character"):
        config("regression", delimiter='"')
    with pytest.raises(RunConfigurationError, match="encoding: 'klingon' is not a text encoding Python knows"):
        config("regression", encoding="klingon")
    chosen = config("regression", encoding="latin-1", delimiter="tab")
    chosen.to_yaml(str(tmp_path / "run.yaml"))
    assert RunConfiguration.from_yaml(str(tmp_path / "run.yaml")) == chosen


def test_conllu_read_with_mark_and_crlf_is_written_back_as_utf8_with_lf(tmp_path) -> None:
    path = tmp_path / "in.conllu"
    path.write_bytes(codecs.BOM_UTF8 + mixed_line_ends(CONLLU).encode("utf-8"))
    write_conllu(tmp_path / "out.conllu", read_conllu(path))
    assert (tmp_path / "out.conllu").read_bytes() == CONLLU.encode("utf-8")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_inference_commands_take_encoding_and_delimiter(command, capsys) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "--encoding" in text and "--delimiter" in text


# --- end to end through the archit command ---------------------------------------------------------------
CLASSIFICATION = (
    'text,label\nthe cat sat,yes\n"a dog, it ran\nin the park",no\nNew York is a big city,no\ncafé au lait,yes\n'
    "Paris is big,no\nthe mat,yes\n"
)
TEXTS = [
    "the cat sat",
    "a dog, it ran\nin the park",
    "New York is a big city",
    "café au lait",
    "Paris is big",
    "the mat",
]


def train(tmp_path: Path, name: str, data_file: Path, *options: str) -> int:
    output_dir = tmp_path / name
    return main(
        [
            "train",
            "--train-file",
            str(data_file),
            "--validation-file",
            str(data_file),
            "--output-dir",
            str(output_dir),
            "--max-steps",
            "2",
            "--train-batch-size",
            "2",
            "--learning-rate",
            "1e-3",
            "--eval-strategy",
            "no",
            "--no-progress-bars",
            *options,
        ]
    )


def outputs(run: Path) -> tuple[dict, bytes]:
    """The validation metrics and the predictions file of a run."""
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["validation"]
    (predictions,) = run.glob("predictions.*")
    return metrics, predictions.read_bytes()


def test_classification_end_to_end_from_a_spreadsheet_csv_and_a_latin1_csv(tmp_path, checkpoints, capsys) -> None:
    files = {
        "plain": CLASSIFICATION.encode("utf-8"),
        "excel": codecs.BOM_UTF8 + CLASSIFICATION.replace("\n", "\r\n").encode("utf-8"),
        "latin1": CLASSIFICATION.encode("latin-1"),
    }
    for name, raw in files.items():
        (tmp_path / f"{name}.csv").write_bytes(raw)
    task = ["--task", "sequence_classification", "--model-name-or-path", checkpoints["bert"]]
    assert train(tmp_path, "plain", tmp_path / "plain.csv", *task) == 0
    assert train(tmp_path, "excel", tmp_path / "excel.csv", *task) == 0
    capsys.readouterr()
    assert train(tmp_path, "latin1", tmp_path / "latin1.csv", *task) == 1
    error = capsys.readouterr().err
    offset = files["latin1"].index(b"\xe9")
    assert error.count("\n") == 1 and error.startswith("archit train: error: ")
    assert f"latin1.csv, line 6: not valid utf-8 (byte 0xe9 at byte offset {offset}); pass --encoding latin-1" in error
    assert train(tmp_path, "latin1", tmp_path / "latin1.csv", *task, "--encoding", "latin-1") == 0

    metrics, predictions = outputs(tmp_path / "plain")
    assert {"accuracy", "macro_f1", "loss"} <= set(metrics)
    assert outputs(tmp_path / "excel") == (metrics, predictions)  # same data, same seed: same run
    assert outputs(tmp_path / "latin1") == (metrics, predictions)
    assert not predictions.startswith(codecs.BOM_UTF8) and b"\r" not in predictions
    records = [json.loads(line) for line in predictions.decode("utf-8").splitlines()]
    assert [record["text"] for record in records] == TEXTS  # the input's rows, in order
    assert [record["line"] for record in records] == [2, 3, 5, 6, 7, 8]

    # predict and evaluate a Latin-1, semicolon-separated copy (Excel's CSV in many locales)
    european = tmp_path / "european.csv"
    european.write_bytes(
        CLASSIFICATION.replace(",yes", ";yes").replace(",no", ";no").replace(",l", ";l").encode("cp1252")
    )
    argv = ["predict", str(tmp_path / "plain"), "--data", str(european), "--output", str(tmp_path / "p.jsonl")]
    capsys.readouterr()
    assert main(argv) == 1 and "european.csv, line 6: not valid utf-8" in capsys.readouterr().err
    assert main([*argv, "--encoding", "cp1252"]) == 1 and "Pass --delimiter ';'" in capsys.readouterr().err
    file_options = ["--encoding", "cp1252", "--delimiter", ";"]
    assert main([*argv, *file_options]) == 0
    predicted = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [record["text"] for record in predicted] == TEXTS
    assert [record["prediction"] for record in predicted] == [record["prediction"] for record in records]
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "plain"), "--data", str(european), *file_options]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["accuracy"] == metrics["accuracy"] and scores["macro_f1"] == metrics["macro_f1"]


def test_parsing_end_to_end_from_a_conllu_with_mark_and_crlf(tmp_path, checkpoints) -> None:
    text = (FIXTURES / "en_tiny.conllu").read_text(encoding="utf-8")
    (tmp_path / "plain.conllu").write_bytes(text.encode("utf-8"))
    (tmp_path / "windows.conllu").write_bytes(codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"))
    options = [
        "--task",
        "dep_parsing",
        "--model-name-or-path",
        checkpoints["bert"],
        "--head-option",
        "arc_mlp_size=16",
        "--head-option",
        "label_mlp_size=8",
    ]
    assert train(tmp_path, "plain", tmp_path / "plain.conllu", *options) == 0
    assert train(tmp_path, "windows", tmp_path / "windows.conllu", *options) == 0
    metrics, predictions = outputs(tmp_path / "plain")
    assert {"uas", "las", "loss"} <= set(metrics)
    assert outputs(tmp_path / "windows") == (metrics, predictions)
    assert not predictions.startswith(codecs.BOM_UTF8) and b"\r" not in predictions
    predicted = read_conllu(tmp_path / "windows" / "predictions.conllu")
    gold = read_conllu(tmp_path / "plain.conllu")
    assert [(s.forms, s.comments) for s in predicted] == [(s.forms, s.comments) for s in gold]  # in order
