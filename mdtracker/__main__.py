import sys

from mdtracker.cli import run

sys.exit(run(sys.argv[1:]))
