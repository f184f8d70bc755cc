#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian fonts (Chinese text on rendered ID cards), the
# virtualenv and the locked packages (requirements.lock, hashes checked). Re-runs only what
# changed (digest of pyproject.toml and the lock files). The Docker image sets
# LOANFLOW_LOCK=requirements-runtime.lock: no test or training packages.
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

# Further Chinese font families for the ID-card evaluation (synthetic.card_eval): Song/Ming, Kai
# and Hei faces the reader was not built on. Missing ones are skipped by the evaluation, named.
for pair in fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc \
            fonts-arphic-uming:/usr/share/fonts/truetype/arphic/uming.ttc \
            fonts-arphic-ukai:/usr/share/fonts/truetype/arphic/ukai.ttc \
            fonts-wqy-microhei:/usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
            fonts-lxgw-wenkai:/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf \
            fonts-arphic-gkai00mp:/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf \
            fonts-arphic-gbsn00lp:/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf; do
  pkg=${pair%%:*} file=${pair#*:}
  [ -f "$file" ] && continue
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing $pkg" >&2
    apt-get install -y -q "$pkg" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$pkg" >/dev/null 2>&1; } \
      || echo "bootstrap: could not install $pkg; the card evaluation skips its styles" >&2
  else
    echo "bootstrap: $pkg missing (needs root apt-get); the card evaluation skips its styles" >&2
  fi
done
# SoftHSM: the PKCS#11 token the seal-key tests run against (skipped when it is missing)
if [ ! -e /usr/lib/softhsm/libsofthsm2.so ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing softhsm2" >&2
    apt-get install -y -q softhsm2 >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q softhsm2 >/dev/null 2>&1; } \
      || echo "bootstrap: could not install softhsm2; the PKCS#11 seal tests will be skipped" >&2
  else
    echo "bootstrap: softhsm2 missing (needs root apt-get); the PKCS#11 seal tests are skipped" >&2
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.loanflow-installed
# the locked set, exactly (hashes checked); regenerate the locks with scripts/lock.sh
LOCK=${LOANFLOW_LOCK:-requirements.lock}
want=$(cat pyproject.toml "$LOCK" requirements-nodeps.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python packages into .venv from $LOCK" >&2
  .venv/bin/python -m pip install -q --require-hashes -r "$LOCK"
  # face-recognition pins an old dlib it would build from source; dlib-bin (locked above)
  # provides the same module prebuilt, so install face-recognition itself without its deps.
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements-nodeps.lock
  # the project itself (no packages of its own: the rooms are imported from the checkout)
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
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
