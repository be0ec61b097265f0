"""`python -m systrace`: the systrace command (see systrace.cli)."""
import sys

from ._cli_start import entry

sys.exit(entry())
