"""`python -m systrace`: the systrace command (see systrace.cli)."""
import sys

from .cli import main

sys.exit(main())
