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

# Further Chinese font families for the ID-card evaluation (synthetic.card_eval): Song/Ming, Kai
# and Hei faces the reader was not built on. Missing ones are skipped by the evaluation, named.
for pair in fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc \
            fonts-arphic-uming:/usr/share/fonts/truetype/arphic/uming.ttc \
            fonts-arphic-ukai:/usr/share/fonts/truetype/arphic/ukai.ttc \
            fonts-wqy-microhei:/usr/share/fonts/truetype/wqy/wqy-microhei.ttc; do
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
