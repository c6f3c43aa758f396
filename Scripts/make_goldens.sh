#!/usr/bin/env bash
# Regenerate Fixtures/goldens/*.json with pinned reference libraries.
#
#   Scripts/make_goldens.sh                                  # goldens only
#   Scripts/make_goldens.sh --convert-llama2 PATH/llama2_tokenizer.model
#                                                            # also rebuild Fixtures/models/llama2-spm/tokenizer.json
#
# Creates (or reuses) a virtualenv at .venv-golden/ in the repository root (git-ignored).
# Needs python3 (3.9+) and access to PyPI. No torch is needed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-golden"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi

"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "tiktoken==0.12.0" \
    "tokenizers==0.22.1" \
    "transformers==4.57.1" \
    "sentencepiece==0.2.1" \
    "protobuf==6.33.0"

# make_spm_goldens.sh reuses this set-up through GOLDEN_SCRIPT.
exec "$VENV/bin/python" "${GOLDEN_SCRIPT:-$ROOT/Scripts/make_goldens.py}" "$@"
