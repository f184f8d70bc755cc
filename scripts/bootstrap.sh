#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian fonts (Chinese text on rendered ID cards), the
# virtualenv and the pinned packages. Re-runs only what changed (pyproject.toml digest).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! fc-list 2>/dev/null | grep -qi "wqy zenhei" && [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing fonts-wqy-zenhei" >&2
    apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-wqy-zenhei >/dev/null 2>&1; } \
      || echo "bootstrap: could not install fonts-wqy-zenhei; sample card rendering will be skipped" >&2
  else
    echo "bootstrap: fonts-wqy-zenhei missing (needs root apt-get); sample card rendering is skipped" >&2
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.loanflow-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q 'setuptools<81' wheel
  .venv/bin/python -m pip install -q -e '.[dev]'
  # face-recognition pins an old dlib it would build from source; dlib-bin (a dependency above)
  # provides the same module prebuilt, so install face-recognition itself without its deps.
  .venv/bin/python -m pip install -q --no-deps 'face-recognition==1.3.0'
  echo "$want" > "$stamp"
fi

# Headless Chromium and its driver for the review console's browser tests (tests/e2e).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing chromium and chromium-driver" >&2
    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } \
      || echo "bootstrap: could not install chromium; browser tests will be skipped" >&2
  else
    echo "bootstrap: chromium missing (needs root apt-get); browser tests are skipped" >&2
  fi
fi
