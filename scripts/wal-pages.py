#!/usr/bin/env python3
"""Which pages each commit in a SQLite WAL wrote, by b-tree (issue 12's write path).

    scripts/wal-pages.py DB WAL

DB and WAL are copies of a database file and its -wal file taken together (for instance
from a benchmark's data directory while it writes). The copy of DB is opened with the
copy of WAL beside it, so that sqlite3's dbstat names the pages as they are now; the WAL
is then read frame by frame: a frame is one page, a commit ends at a frame that carries
the database's size. Prints the frames per commit and, per b-tree and page kind, how
many pages an average commit wrote. Needs the sqlite3 command (Debian's sqlite3).
"""
import collections
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def main(db, wal):
    with tempfile.TemporaryDirectory() as work:
        copy = os.path.join(work, "copy.db")
        shutil.copyfile(db, copy)
        shutil.copyfile(wal, copy + "-wal")
        listing = subprocess.run(
            ["sqlite3", "-separator", " ", copy, "SELECT pageno, name, pagetype FROM dbstat"],
            check=True, capture_output=True, text=True,
        ).stdout
    pages = {}
    for line in listing.splitlines():
        number, name, kind = line.split()
        pages[int(number)] = f"{name} ({kind})"
    data = open(wal, "rb").read()
    page_size = struct.unpack(">I", data[8:12])[0]
    salt = data[16:24]
    commits, current, offset = [], [], 32
    while offset + 24 + page_size <= len(data):
        page, size_after = struct.unpack(">II", data[offset:offset + 8])
        if data[offset + 8:offset + 16] != salt:
            break  # a frame left from before the WAL restarted
        current.append(page)
        if size_after:
            commits.append(current)
            current = []
        offset += 24 + page_size
    if not commits:
        sys.exit("no commit in this WAL")
    frames = sum(map(len, commits))
    print(f"{len(commits)} commits, {frames} frames of {page_size} B, {frames / len(commits):.2f} per commit")
    spread = collections.Counter(len(c) for c in commits)
    print("frames per commit:", ", ".join(f"{n} x{k}" for n, k in sorted(spread.items())))
    per_tree = collections.Counter(pages.get(p, f"page {p} (not in the database now)") for c in commits for p in c)
    for tree, n in per_tree.most_common():
        print(f"{n / len(commits):6.2f}  {tree}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
