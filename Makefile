# The commands a person types; the README shows the same ones.
.PHONY: demo test lint bench setup lock

setup:
	@scripts/bootstrap.sh

demo: setup
	.venv/bin/python -m devtools.demo

test: setup
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench: setup
	for b in decisioning_scorecard decisioning_speed vision_ocr vision_face vision_liveness \
	         vision_throughput system; do .venv/bin/python -m bench.$$b || exit 1; done

lock:
	scripts/lock.sh
