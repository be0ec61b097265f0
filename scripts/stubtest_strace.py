"""mypy.stubtest for systrace._native.strace, typed by _native_strace.pyi.

The submodule is only an attribute of systrace._native (PyO3 does not put it
in sys.modules), so stubtest cannot import it by name; this registers it
under the stub-only module's name, then runs stubtest on that.
"""
import sys

import systrace._native as native
from mypy.stubtest import main

sys.modules["systrace._native_strace"] = native.strace
sys.argv[1:] = ["systrace._native_strace", *sys.argv[1:]]
sys.exit(main())
