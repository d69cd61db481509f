#!/usr/bin/env bash
# Record the versions of an environment that passed the whole suite as archit/constraints.txt, the tested set
# that scripts/setup.sh installs. Run it after a green run of .ci/run: bash scripts/update_constraints.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
{
    echo "# The tested set: the versions of the last green CI run (scripts/update_constraints.sh writes this file)."
    echo "# scripts/setup.sh installs with it; 'pip install archit' gets the ranges pyproject.toml declares."
    "$VENV/bin/python" -m pip freeze --exclude-editable | grep -v -E '^(#|-e )' | sed -E 's/^(torch==[^+]+)\+.*/\1/'
} > archit/constraints.txt
echo "wrote archit/constraints.txt from $VENV"
