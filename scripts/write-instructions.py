#!/usr/bin/env python3
"""Instructions per unwatched expense, counted by callgrind (issue 12's write path).

    scripts/write-instructions.py [--writes N] [--keep DIR] [--postgres URL] BINARY [BINARY ...]

Each server binary (a release build, `target/release/server` or a copy of an earlier
one) runs under valgrind's callgrind on a fresh SQLite file at its default log level;
five users sign up, one makes a team of them, and writes 30 expenses to warm up (a
200-character description each, as `server/benches/live.rs` writes; no notifications,
since members hear of expenses only if they chose to); the counters are zeroed, N more
expenses (default 100) are written one at a time on one keep-alive connection, and the
counters are read. Prints the user-space instructions per write of every thread of the
server, the same by class (SQLite, the driver, HTTP, copies, the allocator, JSON, …:
`CLASSES`), and, for two binaries, the functions whose own instructions per write
changed most between them. With `--postgres
URL` (a PostgreSQL server, as `postgres://postgres@127.0.0.1:5432/postgres`) each binary
gets a new database there, dropped afterwards; the count is then the server's alone, not
PostgreSQL's backends'.

What it answers that the paced benchmark cannot: a change's effect on the work a write
does, to within 0.3 %, in about 10 s a binary and whatever else the machine is doing (a
count, not a time). What it does not see: the kernel's part (system calls, the network,
the page cache) and what the instructions cost in time (caches, the cold penalty of a
write at 200/s: ARCHITECTURE, "The write path"). A `rep movs`/`rep stos` counts once per
iteration, so large copies and clears weigh more here than in time. Needs valgrind
(Debian's `valgrind`).
"""
import argparse
import contextlib
import datetime
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

WARM_UP = 30
MEMBERS = 5


def measure(binary, writes, keep, database_url):
    work = tempfile.mkdtemp(prefix="write-instructions-")
    os.makedirs(os.path.join(work, "site"))
    env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    env.update(
        LIVELEDGER_ADDR="127.0.0.1:0",
        DATABASE_URL=database_url or f"sqlite://{work}/bench.db",
        DATA_DIR=work,
        JWT_SECRET="bench-secret-that-is-long-enough-for-hs256-0123456789",
        SIGNUP_LIMIT_PER_ADDRESS="1000000",
        LEPTOS_SITE_ROOT=f"{work}/site",
    )
    out = os.path.join(work, "callgrind.out")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary],
        env=env, stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"),
        text=True,
    )
    try:
        base = None
        for line in server.stdout:
            if line.startswith("LiveLedger is running at "):
                base = urllib.parse.urlparse(line.split(" at ", 1)[1].strip())
                break
        if base is None:
            sys.exit(f"{binary}: the server stopped before it listened ({work}/server.log)")
        # The rest of its output is read and dropped, so that the pipe never fills.
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        conn = http.client.HTTPConnection(base.hostname, base.port)

        def post(path, form, token=None):
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn.request("POST", "/api/" + path, urllib.parse.urlencode(form), headers)
            res = conn.getresponse()
            body = res.read()
            if not 200 <= res.status < 300:
                sys.exit(f"{path}: {res.status} {body[:200]!r}")
            return res, body

        tokens = []
        for i in range(MEMBERS):
            res, _ = post("auth/register", {
                "email": f"count{i}@example.com", "display_name": f"Count {i}",
                "password": "correct horse battery staple",
            })
            tokens.append(res.getheader("x-session-token"))
        ws = json.loads(post("workspaces/create", {"name": "Counted"}, tokens[0])[1])["id"]
        for token in tokens[1:]:
            invite = json.loads(post("workspaces/invite", {"workspace_id": ws, "role": "member"}, tokens[0])[1])
            post("workspaces/join", {"code": invite["code"]}, token)
        today = datetime.date.today().isoformat()

        def spend(n):
            post("expenses/create", {
                "workspace_id": ws, "amount": "1.25", "currency": "EUR", "category": "Food",
                "description": f"{n:05} " + "x" * 194, "date": today,
            }, tokens[0])

        for n in range(WARM_UP):
            spend(n)
        control = lambda *args: subprocess.run(["callgrind_control", *args, str(server.pid)],
                                               check=True, capture_output=True)
        control("--zero")
        for n in range(writes):
            spend(WARM_UP + n)
        control("--dump=measured")
    finally:
        server.terminate()
        server.wait()
    dumps = [os.path.join(work, f) for f in os.listdir(work) if f.startswith("callgrind.out")]
    measured = next(f for f in dumps if "Trigger: dump measured" in open(f).read(4096))
    total = int(re.search(r"^summary: (\d+)", open(measured).read(), re.M).group(1))
    costs = own_costs(measured, total)
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copyfile(measured, os.path.join(
            keep, os.path.basename(binary) + f".{len(os.listdir(keep))}.callgrind"))
    shutil.rmtree(work)
    return total / writes, costs


@contextlib.contextmanager
def fresh_database(server_url):
    """A new PostgreSQL database on `server_url`, dropped afterwards; None without one."""
    if not server_url:
        yield None
        return
    name = f"write_instructions_{os.getpid()}_{int(time.time() * 1000)}"
    psql = lambda sql: subprocess.run(["psql", server_url, "-qAtc", sql], check=True,
                                      capture_output=True)
    psql(f"CREATE DATABASE {name}")
    try:
        yield urllib.parse.urlparse(server_url)._replace(path="/" + name).geturl()
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def own_costs(dump, total):
    """Each function's own instructions in a callgrind dump, but for the threads' entry
    frames: open when the counters were read, they carry the whole `total`."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", dump],
                          check=True, capture_output=True, text=True).stdout
    costs = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*?) \[", line)
        if m:
            costs[m.group(2)] = costs.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
    # An entry frame's own count is (almost) the whole total; no real function's is half.
    return {name: n for name, n in costs.items() if n < total / 2}


# Where a function's own instructions are counted in `classes`, first match wins.
CLASSES = [
    ("SQLite", r"^\?\?\?:(sqlite3|pcache|btree|wal[A-Z]|vdbe|memjrnl|pager|unixShm)\w*$"
               r"|^\?\?\?:[a-z]+[A-Z]\w*(\.part\.\d+)?$"),
    ("driver", r"db::inline|db::gather|rusqlite"),
    ("sqlx", r"sqlx"),
    ("HTTP", r"hyper|axum|tower|http::|httparse|server_fn|leptos|reactive_graph"),
    ("copies", r"memset|memmove|memcpy|memcmp"),
    ("jemalloc", r"malloc|free|sdallocx|_rjem|rallocx|realloc"),
    ("JSON", r"serde_json|ryu|itoa"),
    ("tracing", r"tracing"),
    ("tokio", r"tokio|mio::"),
    ("form", r"wire::form|memchr|serde_qs|percent_encoding"),
    ("app", r"app::|server::"),
]


def classes(costs):
    """Own instructions summed by class (`CLASSES`; the rest: formatting, hashing,
    futures' plumbing and whatever else matched none)."""
    sums = {name: 0 for name, _ in CLASSES}
    sums["rest"] = 0
    for function, n in costs.items():
        name = next((c for c, pattern in CLASSES if re.search(pattern, function)), "rest")
        sums[name] += n
    return sums


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--keep", help="copy each measured dump here (for callgrind_annotate)")
    parser.add_argument("--postgres", metavar="URL", help="count on PostgreSQL (see above)")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("write-instructions: needs valgrind (apt-get install valgrind)")
    results = []
    for binary in args.binaries:
        with fresh_database(args.postgres) as database_url:
            per_write, costs = measure(os.path.abspath(binary), args.writes, args.keep,
                                       database_url)
        results.append((binary, costs))
        print(f"{per_write:10.0f} instructions per write  {binary}", flush=True)
        by_class = sorted(classes(costs).items(), key=lambda kv: -kv[1])
        print("           " + ", ".join(f"{name} {n / args.writes / 1000:.1f}k"
                                         for name, n in by_class), flush=True)
    if len(results) == 2:
        (a, ca), (b, cb) = results
        changed = sorted(set(ca) | set(cb), key=lambda k: -abs(cb.get(k, 0) - ca.get(k, 0)))
        print(f"\nper write, own instructions: change, {a}, {b}")
        for name in changed[:25]:
            x, y = ca.get(name, 0) / args.writes, cb.get(name, 0) / args.writes
            if round(x) != round(y):
                print(f"{y - x:+9.0f} {x:9.0f} {y:9.0f}  {name[:140]}")

if __name__ == "__main__":
    main()
