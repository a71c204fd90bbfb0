#!/usr/bin/env python3
# memsvc.py - a service whose work is memory, for the memory throttler's end-to-end tests, and its client.
#
#   memsvc.py serve --socket PATH --data FILE --mib N --ready FILE [--hog MIB]
#       writes FILE (N MiB, its pages charged to this process's cgroup) and, per request on the unix
#       socket PATH, reads 3000 pages of it at random (the same ones each time, without readahead):
#       fast while the file stays in the page cache, a disk read each once a memory limit evicts it.
#       --hog: per request, also allocate and touch MIB MiB.  Bounded: 1 s to read a request.
#   memsvc.py ask PATH...
#       one request to each service in turn; exits 1 if any fails.
import os
import random
import socket
import sys

MIB = 1 << 20


def serve(args):
    opts = dict(zip(args[::2], args[1::2]))
    path, data, ready = opts["--socket"], opts["--data"], opts["--ready"]
    mib, hog = int(opts["--mib"]), int(opts.get("--hog", "0"))
    block = b"m" * MIB
    with open(data, "wb") as f:
        for _ in range(mib):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    pages = mib * MIB // 4096
    rng = random.Random(1)
    offsets = [rng.randrange(pages) * 4096 for _ in range(3000)]
    fd = os.open(data, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    s.bind(path)
    s.listen(8)
    open(ready, "w").close()
    while True:
        c, _ = s.accept()
        with c:
            c.settimeout(1.0)
            try:
                c.recv(16)
            except OSError:
                continue
            for off in offsets:
                os.pread(fd, 4096, off)
            if hog:
                grab = bytearray(hog * MIB)
                for i in range(0, len(grab), 4096):
                    grab[i] = 1
                del grab
            c.sendall(b"ok\n")


def ask(paths):
    for path in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60.0)
        try:
            s.connect(path)
            s.sendall(b"go\n")
            if s.recv(16) != b"ok\n":
                print("%s: no answer" % path, file=sys.stderr)
                return 1
        except OSError as e:
            print("%s: %s" % (path, e), file=sys.stderr)
            return 1
        finally:
            s.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) > 2 and sys.argv[1] == "ask":
        sys.exit(ask(sys.argv[2:]))
    else:
        sys.exit("usage: memsvc.py serve --socket PATH --data FILE --mib N --ready FILE [--hog MIB] | ask PATH...")
