# The commands a person types; the README shows the same ones.
.PHONY: demo test check lint bench setup lock dlib-blas

setup:
	@scripts/bootstrap.sh

demo: setup
	.venv/bin/python -m devtools.demo

test: setup check
	.venv/bin/python -m pytest -q

# Lint, format and types before the tests: the same gate in CI as on a laptop.
check: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/python -m mypy

lint: check

bench: setup
	for b in decisioning_scorecard decisioning_speed vision_ocr vision_face vision_liveness \
	         vision_throughput system lines load chaos baseline temporal_cost \
	         dev_server_tuning; do \
	    .venv/bin/python -m bench.$$b || exit 1; done

# On a vision host: dlib compiled with OpenBLAS in place of dlib-bin (face encoder ~4x faster).
dlib-blas: setup
	scripts/build_dlib.sh

# Regenerate the hashed lock files after changing a dependency in pyproject.toml.
lock:
	scripts/lock.sh
