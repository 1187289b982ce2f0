"""`python -m bot` runs the command line."""

import sys

from bot.cli import main

if __name__ == "__main__":  # the picture worker process imports this module again
    sys.exit(main())
