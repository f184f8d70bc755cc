#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml (run after changing a dependency; commit them):
#   requirements.lock          runtime + dev + train extras: bootstrap.sh, CI, development
#   requirements-runtime.lock  runtime only: the Docker image
#   requirements-nodeps.lock   face-recognition, installed without its deps (it pins an old dlib
#                              that would build from source; dlib-bin above provides it)
# Every line carries its hashes: `pip install --require-hashes` refuses anything else.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v uv || echo .venv/bin/uv)}
PY_VERSION=${PY_VERSION:-3.11}
compile() {
  "$UV" pip compile --quiet --generate-hashes --python-version "$PY_VERSION" \
    --python-platform x86_64-manylinux_2_28 --no-header -c scripts/lock-constraints.txt "$@"
}
compile pyproject.toml --extra dev --extra train -o requirements.lock
compile pyproject.toml -o requirements-runtime.lock
echo "face-recognition==1.3.0" | compile --no-deps - -o requirements-nodeps.lock
echo "lock: wrote requirements.lock, requirements-runtime.lock, requirements-nodeps.lock" >&2
