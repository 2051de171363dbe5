.PHONY: run test lint eval bench

run:  ## set up, index corpus/ and start the Streamlit app
	bash scripts/run.sh

test:  ## set up with test tools, lint, type-check, run all tests
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy assistant app.py index.py

eval:  ## evaluate the dev set with the configured backend
	.venv/bin/python -m assistant eval ../shared/eval/dev.jsonl --report reports/dev

bench:  ## speed and memory figures, written with the machine to bench/results/
	.venv/bin/python bench/run.py
