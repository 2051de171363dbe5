.PHONY: run api test lint eval bench bench-load bench-indexing

run:  ## set up, index corpus/ and start the Streamlit app
	bash scripts/run.sh

api:  ## set up, index corpus/ and start the HTTP API and website widget
	bash scripts/run.sh --api

test:  ## set up with test tools, lint, type-check, run all tests
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy assistant app.py index.py

EVAL_SETS = eval/tune.jsonl eval/heldout.jsonl ../shared/eval/dev.jsonl
EVAL_BACKENDS ?= --backend extractive --backend local

eval:  ## tune, held-out and dev side by side (EVAL_BACKENDS) -> docs/evaluation.md
	.venv/bin/python -m assistant eval $(EVAL_SETS) $(EVAL_BACKENDS) \
		--report reports/eval --doc docs/evaluation.md

bench:  ## speed and memory figures, written with the machine to bench/results/
	.venv/bin/python bench/run.py

bench-load:  ## 16 clients for 60 s against the HTTP API, written to bench/results/
	.venv/bin/python bench/load.py

bench-indexing:  ## index.py on 2,000 generated documents against the raw encode rate; re-runs
	.venv/bin/python bench/indexing.py --documents 2000 --rerun-documents 10000 --profile-documents 200
