#!/usr/bin/env bash
# Regenerate Fixtures/goldens/spm-*.json with the pinned `sentencepiece` (and `tokenizers`)
# packages, in the same .venv-golden/ that make_goldens.sh sets up (it pins both).
#
#   Scripts/make_spm_goldens.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GOLDEN_SCRIPT="$ROOT/Scripts/make_spm_goldens.py" exec "$ROOT/Scripts/make_goldens.sh" "$@"
