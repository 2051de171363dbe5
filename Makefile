.PHONY: run api test lint eval bench bench-load

run:  ## set up, index corpus/ and start the Streamlit app
	bash scripts/run.sh

api:  ## set up, index corpus/ and start the HTTP API and website widget
	bash scripts/run.sh --api

test:  ## set up with test tools, lint, type-check, run all tests
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy assistant app.py index.py

eval:  ## evaluate the dev set with the configured backend
	.venv/bin/python -m assistant eval ../shared/eval/dev.jsonl --report reports/dev

bench:  ## speed and memory figures, written with the machine to bench/results/
	.venv/bin/python bench/run.py

bench-load:  ## 16 clients for 60 s against the HTTP API, written to bench/results/
	.venv/bin/python bench/load.py
