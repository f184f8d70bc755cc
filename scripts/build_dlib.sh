#!/usr/bin/env bash
# dlib built from its source with OpenBLAS, for the hosts that run the vision worker.
#
# The locked `dlib-bin` wheel has no BLAS: its face encoder (a ResNet) multiplies matrices
# with dlib's own loops, ~100 ms an encoding on these 2-core machines, and an application makes
# about nine (selfie, vendor portrait, card portrait, six video frames). Linked against OpenBLAS
# and compiled for x86-64-v3 (AVX2, FMA), the same model gives the same encodings in ~25 ms.
# Building takes 20-30 minutes of two cores, so it is not part of the bootstrap: tests and CI
# use `dlib-bin`; run this once on a vision host (or in the image's build stage) and it replaces
# `dlib-bin` in the virtualenv. The wheel is kept in .data/wheels and reused by later runs.
#
#   scripts/build_dlib.sh            build (or reuse) and install into .venv
#   scripts/build_dlib.sh --undo     put the locked dlib-bin back
#
# The source archive is checked against its hash, as the lock files check every wheel. At run
# time each vision pool process must use one OpenBLAS thread (it is one of `pool` processes on
# the host's cores); `vision/__init__.py` sets OPENBLAS_NUM_THREADS=1 unless it is set.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=20.0.1
SDIST_SHA256=7cb2a09467de032332c743bc967007f016598c66c9c9ebc54a5b66d3d9e46d54
ARCH_FLAGS=${DLIB_ARCH_FLAGS:-"-O3 -march=x86-64-v3"}
WHEELS=.data/wheels
PIP=(.venv/bin/python -m pip)

if [ "${1:-}" = "--undo" ]; then
  "${PIP[@]}" uninstall -q -y dlib || true
  "${PIP[@]}" install -q --require-hashes --no-deps --force-reinstall \
    -r <(awk '/^dlib-bin==/{p=1; print; next} p && /^[^ ]/{exit} p' requirements.lock)
  echo "build_dlib: dlib-bin reinstalled" >&2
  exit 0
fi

if [ -z "${DLIB_ARCH_FLAGS:-}" ] && ! { grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; }; then
  echo "build_dlib: this CPU lacks AVX2/FMA (x86-64-v3); set DLIB_ARCH_FLAGS, e.g. -O3" >&2
  exit 1
fi

missing=()
[ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] \
  || missing+=(libopenblas-dev)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "build_dlib: installing ${missing[*]}" >&2
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; }
  else
    echo "build_dlib: needs ${missing[*]} (Debian packages)" >&2
    exit 1
  fi
fi

mkdir -p "$WHEELS"
wheel=$(ls "$WHEELS"/dlib-"$VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "${PIP[@]}" download -q --no-deps --no-binary dlib --no-build-isolation "dlib==$VERSION" -d "$work"
  echo "$SDIST_SHA256  $work/dlib-$VERSION.tar.gz" | sha256sum -c --quiet
  tar xzf "$work/dlib-$VERSION.tar.gz" -C "$work"
  echo "build_dlib: compiling dlib $VERSION with OpenBLAS ($ARCH_FLAGS); 20-30 minutes" >&2
  (cd "$work/dlib-$VERSION" && CXXFLAGS="$ARCH_FLAGS" "$OLDPWD/.venv/bin/python" -m pip wheel -q \
    --no-deps --no-build-isolation -w "$OLDPWD/$WHEELS" .)
  wheel=$(ls "$WHEELS"/dlib-"$VERSION"-*.whl | head -1)
fi
"${PIP[@]}" uninstall -q -y dlib-bin || true
"${PIP[@]}" install -q --no-deps --force-reinstall "$wheel"
.venv/bin/python -c 'import dlib, sys; sys.exit(0 if dlib.DLIB_USE_BLAS else 1)'
echo "build_dlib: installed $(basename "$wheel") (BLAS on)" >&2
