#!/usr/bin/env bash
# Regenerate Fixtures/goldens/spm-*.json with the pinned `sentencepiece` (and `tokenizers`) packages.
#
#   Scripts/make_spm_goldens.sh
#
# Creates (or reuses) the virtualenv .venv-golden/ in the repository root (git-ignored).
# Needs python3 (3.9+) and access to PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-golden"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi

"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "sentencepiece==0.2.1" \
    "protobuf==6.33.0" \
    "tokenizers==0.22.1"

exec "$VENV/bin/python" "$ROOT/Scripts/make_spm_goldens.py" "$@"
