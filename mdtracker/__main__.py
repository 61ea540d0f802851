from mdtracker.cli import entry

entry()
