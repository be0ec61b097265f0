"""Our reader of the BPF ring buffer (src/kernel/ring.rs), against the real
kernel: its data area is mapped once (a 2 MiB ring cost 4 MiB of RSS under
libbpf's double mapping, issue 15), so a record whose body crosses the end
of the data area is copied out in two parts; those must come out exactly."""
from __future__ import annotations

import os
import random
import threading

import systrace

PAGE = os.sysconf("SC_PAGE_SIZE")


def test_records_that_wrap_the_ring_are_delivered_exactly(kernel):
    # Writes of 4..3000 bytes of random data through a 16 KiB ring: about
    # one record in ten crosses its end. Each write's first 4 bytes are its
    # index, so that every delivered capture is checked against what that
    # very write wrote; any lost must be counted.
    ring = 1 << 14
    n = 3000
    rng = random.Random(15)
    written = [i.to_bytes(4, "little") + rng.randbytes(rng.randint(0, 2996)) for i in range(n)]
    fd = os.open(os.devnull, os.O_WRONLY)
    tid = threading.get_native_id()
    delivered = []
    try:
        with systrace.enable("write", exit=False, strings=True, string_size=4096, buffer_size=ring) as s:
            assert s.buffer_size == ring
            for i, data in enumerate(written):
                os.write(fd, data)
                if i % 4 == 3:
                    # Four records (some 6 KiB) at a time in the ring, read
                    # before the next four (a loss is counted, not waited
                    # for: then the poll times out).
                    while not delivered or delivered[-1].captured["buf"][:4] != data[:4]:
                        got = [e for e in s.poll(timeout=0.5) if e.tid == tid]
                        if not got:
                            break
                        delivered += got
        delivered += [e for e in s if e.tid == tid]
    finally:
        os.close(fd)
    assert all(e.name == "write" and e.args["fd"] == fd for e in delivered), [str(e) for e in delivered[:3]]
    seen = []
    for e in delivered:
        buf = e.captured["buf"]
        i = int.from_bytes(buf[:4], "little")
        assert i < n and buf == written[i], f"write {i}: {len(buf)} bytes captured of {len(written[i])}"
        assert e.args["count"] == len(written[i]) and e.capture_status == {}
        seen.append(i)
    assert seen == sorted(set(seen))
    # A record whose header the copy broke is not decoded: it goes missing.
    assert len(delivered) + s.dropped == n, (len(delivered), s.dropped)
    # Enough went through for the ring to wrap many times over.
    assert sum(len(written[i]) for i in seen) > 40 * ring, (len(seen), s.dropped)


def ring_mappings() -> list:
    """(size, rss) in kB of this process's read-only BPF map mappings: the
    ring buffer's data (the other maps we map are writable)."""
    out, current = [], None
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:
                current = None
                if fields[-1] == "anon_inode:bpf-map" and fields[1].startswith("r--"):
                    current = [0, 0]
                    out.append(current)
            elif current is not None and fields[0] in ("Size:", "Rss:"):
                current[fields[0] == "Rss:"] = int(fields[1])
    return [tuple(m) for m in out]


def test_the_ring_is_mapped_once(kernel):
    # libbpf mapped the producer page and the data area twice (so 2 x 1 MiB
    # resident: the kernel populates a ring's pages at mmap time).
    size = 1 << 20
    with systrace.enable("getppid", buffer_size=size) as s:
        assert s.buffer_size == size
        os.getppid()
        mapped = ring_mappings()
    expected = (size + PAGE) // 1024
    # The object's .rodata is read-only too: one page.
    rings = [m for m in mapped if m[0] > PAGE // 1024]
    assert rings == [(expected, expected)], mapped
