"""`python index.py [--corpus DIR] [--rebuild] [--quiet]`: index the corpus (see
assistant/index_cli.py; `python -m assistant index` is the same command)."""

import sys

from assistant.index_cli import main

if __name__ == "__main__":
    sys.exit(main())
