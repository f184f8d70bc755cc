# The commands a person types; the README shows the same ones.
.PHONY: demo test lint setup

setup:
	@scripts/bootstrap.sh

demo: setup
	.venv/bin/python -m devtools.demo

test: setup
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
