"""`python -m systrace`: the systrace command (see systrace.cli)."""
import sys

from .cli import entry

sys.exit(entry())
