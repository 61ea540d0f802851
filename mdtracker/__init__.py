"""mdtracker: progress, readiness and what is overdue, computed from Markdown notes and written back into them."""

__version__ = "0.1.0"
