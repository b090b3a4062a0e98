"""Benchmark virtc against the real makemap, in one run: ``make bench``.

For every table size it times, in the same round and on the same generated
table, ``makemap hash`` (default flags), ``virtc build`` (lint included),
``virtc build --no-lint`` and ``virtc lint`` (each of the two with its default
two processes on a large table and with ``-j 1``); each round is repeated and the
median wall time, the median ratio against makemap (of that round), the largest
peak RSS of one process and the peak total of all processes are reported. It
also times the start-up of ``virtc --version`` and ``virtc lint`` on a 10-line
file, and checks on the largest
table that virtc's map holds exactly what makemap's map holds (``makemap -u``
of both). The result is printed as Markdown.

    python benchmarks/run.py                 # 100k and 1M entries, 3 rounds
    python benchmarks/run.py --large         # also 3M entries
    python benchmarks/run.py --sizes 20000 --repeat 1   # a quick smoke run
    python benchmarks/run.py --sizes 1000000 --shapes all --rule-times   # every shape, per rule
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from virtc.compat import zip_strict

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import SHAPES, VERSION  # noqa: E402

# The unpacked oracle of tools/install-deps.sh first, then an installed sendmail.
MAKEMAP_PATHS = (str(Path(os.environ.get("VIRTC_ORACLE_PREFIX") or ROOT / ".oracles")
                     / "usr/libexec/sendmail/makemap"),
                 "/usr/sbin/makemap", "/usr/libexec/sendmail/makemap")
SMALL_TABLE = """\
# a 10-line table for the start-up benchmark
info@example.com\talice
sales@example.com\tbob
bob+news@example.com\tbob
bob++@example.com\tbob
+*@example.org\tcarol
postmaster@example.org\troot
abuse@example.org\troot
@example.org\terror:nouser 550 User unknown
@example.com\terror:5.1.1:550 5.1.1 User unknown
"""
TOOLS = ("makemap", "virtc build", "virtc build -j 1", "virtc build --no-lint", "virtc lint",
         "virtc lint -j 1")
# As installed: byte-compiled modules are used (a shell may set PYTHONDONTWRITEBYTECODE).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    wall: float
    rss_kib: int
    """Peak RSS of the largest process (wait4: the command or one of its helpers)."""
    returncode: int
    stderr_tail: str = ""
    total_kib: int = 0
    """Peak of the summed PSS of the command and its helper processes (sampled every 50 ms):
    pages they share copy-on-write are counted once."""


def _tree(pid: int) -> list[int]:
    out = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out += _tree(int(child))
    except OSError:
        pass
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the summed PSS of a process and its descendants until stopped (Linux)."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, sum(map(_pss_kib, _tree(self.pid))))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs)


def timed(argv: list[str], stdin: Path | None = None, ok: tuple[int, ...] = (0,), *,
          sample: bool = False) -> Run:
    """Run ``argv`` to completion; wall time and the child's own peak RSS (wait4), and with
    ``sample`` the peak of the summed PSS (:class:`TreeMemory`: reading smaps_rollup every
    50 ms takes time from a command of two large processes on two cores, not from makemap;
    see :func:`measured`, and benchmarks/README.md for how much)."""
    stdin_f = stdin.open("rb") if stdin else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=stdin_f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=ENV)
    assert proc.stderr is not None
    memory = TreeMemory(proc.pid) if sample else None
    # Only the end is kept: a blocked build prints every finding (80 MB for 274k of them), and
    # a bench process that grew by that much would show in every later child's peak RSS
    # (Linux carries the parent's high-water mark into a forked child's ru_maxrss).
    err = b""
    while chunk := proc.stderr.read(1 << 16):
        err = (err + chunk)[-(1 << 16):]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    total = memory.stop() if memory is not None else 0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdin is not None and not isinstance(stdin_f, int):
        stdin_f.close()
    tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
    run = Run(wall, usage.ru_maxrss, proc.returncode, "\n".join(tail), max(total, 0))
    if proc.returncode not in ok:
        print(f"  ! {' '.join(argv)}: exit {proc.returncode}: {run.stderr_tail}", file=sys.stderr)
    return run


def measured(argv: list[str], stdin: Path | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """:func:`timed` twice: the wall time of a run nobody samples, the summed PSS of a
    second, sampled run (the peak RSS the larger of both)."""
    run = timed(argv, stdin, ok)
    memory = timed(argv, stdin, ok, sample=True)
    return Run(run.wall, max(run.rss_kib, memory.rss_kib), run.returncode, run.stderr_tail, memory.total_kib)


def virtc_argv() -> list[str]:
    script = Path(sys.executable).with_name("virtc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "virtc"]


def find_makemap() -> str:
    for p in MAKEMAP_PATHS:
        if os.access(p, os.X_OK):
            return p
    found = shutil.which("makemap")
    if found is None:
        sys.exit("makemap not found: run `make oracles` (tools/install-deps.sh test)")
    return found


def table_file(workdir: Path, entries: int, seed: int, shape: str = "mixed") -> Path:
    name = f"vt-{entries}-s{seed}-v{VERSION}.txt" if shape == "mixed" else \
        f"vt-{shape}-{entries}-s{seed}-v{VERSION}.txt"
    path = workdir / name
    if not path.exists():  # (in a child process: this one stays small, see main)
        print(f"generating {path} ...", file=sys.stderr)
        tmp = path.with_name(path.name + ".part")
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(entries), "--seed", str(seed),
                        "--shape", shape, "-o", str(tmp)], check=True)
        tmp.replace(path)
    return path


RULE_TIMES = """
import sys, time
from virtc.lint.config import LintConfig
from virtc.lint.runner import start
from virtc.source.parse import parse_file
from virtc.deploy.deployment import Deployment
t0 = time.perf_counter()
table = parse_file(sys.argv[1], jobs=1)
print(f"parse\t{time.perf_counter() - t0:.3f}")
run = start(table, LintConfig(), Deployment())
for rule in run.active:
    t0 = time.perf_counter()
    for _ in rule.check(table, run.ctx):
        pass
    print(f"{rule.code}\t{time.perf_counter() - t0:.3f}")
"""


def rule_times(src: Path) -> list[tuple[str, float]]:
    """Seconds per rule in one process, in the runner's order (the shared facts a rule is the
    first to need are counted in its time), after the parse: names the rule that is slow."""
    proc = subprocess.run([sys.executable, "-c", RULE_TIMES, str(src)], capture_output=True, text=True,
                          check=True)
    return [(name, float(sec)) for name, sec in (line.split("\t") for line in proc.stdout.splitlines())]


def lint_available(virtc: list[str]) -> bool:
    proc = subprocess.run([*virtc, "lint", "--help"], capture_output=True, check=False)
    return proc.returncode == 0


class Bench:
    def __init__(self, workdir: Path, makemap: str, virtc: list[str], lint: bool) -> None:
        self.workdir = workdir
        self.makemap = makemap
        self.virtc = virtc
        self.lint = lint
        # makemap run as root reads sendmail.cf (TrustedUser, chown): give it an empty one.
        self.cf = workdir / "empty.cf"
        self.cf.write_text("# empty sendmail.cf for makemap -C\n")

    def maps(self, entries: int, shape: str) -> dict[str, Path]:
        return {"makemap": self.workdir / f"makemap-{shape}-{entries}.db",
                "virtc build": self.workdir / f"virtc-{shape}-{entries}.db",
                "virtc build -j 1": self.workdir / f"virtc-j1-{shape}-{entries}.db",
                "virtc build --no-lint": self.workdir / f"virtc-nolint-{shape}-{entries}.db"}

    def round(self, src: Path, entries: int, shape: str) -> dict[str, Run]:
        """One round: every tool once on ``src``."""
        maps = self.maps(entries, shape)
        for m in maps.values():
            m.unlink(missing_ok=True)
        out: dict[str, Run] = {}
        out["makemap"] = measured([self.makemap, "-C", str(self.cf), "hash",
                                   str(maps["makemap"].with_suffix(""))], stdin=src)
        out["virtc build"] = measured([*self.virtc, "build", "-q", str(src), "-o",
                                       str(maps["virtc build"])])
        out["virtc build -j 1"] = measured([*self.virtc, "build", "-q", "-j", "1", str(src), "-o",
                                            str(maps["virtc build -j 1"])])
        out["virtc build --no-lint"] = measured([*self.virtc, "build", "-q", "--no-lint", str(src),
                                                 "-o", str(maps["virtc build --no-lint"])])
        if self.lint:
            out["virtc lint"] = measured([*self.virtc, "lint", str(src)], ok=(0, 1))
            out["virtc lint -j 1"] = measured([*self.virtc, "lint", "-j", "1", str(src)], ok=(0, 1))
        return out


def median_ms(argv: list[str], n: int) -> float:
    times = [timed(argv, ok=(0, 1)).wall for _ in range(n)]
    return statistics.median(times) * 1000


def compare_maps(makemap: str, cf: Path, ours: Path, theirs: Path) -> str:
    """``makemap -u`` of both maps: the same records? the same order?"""
    def dump(p: Path) -> list[bytes]:
        proc = subprocess.run([makemap, "-C", str(cf), "-u", "hash", str(p.with_suffix(""))],
                              capture_output=True, check=True)
        return proc.stdout.split(b"\n")

    a, b = dump(theirs), dump(ours)
    if a == b:
        return f"identical `makemap -u` dumps ({len(a) - 1} records, same order)"
    if sorted(a) == sorted(b):
        return f"same {len(a) - 1} records, different order"
    only_a = len(set(a) - set(b))
    only_b = len(set(b) - set(a))
    return f"DIFFERENT: {only_a} records only in makemap's map, {only_b} only in virtc's"


def sample_addresses(src: Path, n: int, seed: int) -> list[str]:
    """Addresses to resolve: existing keys, their +detail forms, unknown users of their domains."""
    import random

    rng = random.Random(seed)
    keys = [line.split(None, 1)[0] for line in src.read_text("latin-1").splitlines()
            if line and not line.startswith("#") and "@" in line.split(None, 1)[0]]
    picked = rng.sample(keys, min(n, len(keys)))
    out = []
    for i, key in enumerate(picked):
        user, _, domain = key.rpartition("@")
        user = user.removesuffix("++").removesuffix("+*")
        if i % 4 == 1 and user and "+" not in user:
            out.append(f"{user}+bench@{domain}")
        elif i % 4 == 2:
            out.append(f"nosuch{i}@{domain}")
        else:
            out.append(f"{user or f'anyone{i}'}@{domain}")
    return out


def check_with_sendmail(virtc: list[str], map_file: Path, addresses: list[str]) -> str:
    """Resolve ``addresses`` with the real sendmail through virtc's map; compare ``virtc query``."""
    import json

    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from support.sendmail import SendmailOracle  # type: ignore[import-not-found]
    except ImportError as exc:
        return f"not checked: tests/support/sendmail.py unavailable ({exc})"
    try:
        with SendmailOracle(map_file) as oracle:
            theirs = oracle.resolve(addresses)
    except Exception as exc:  # a missing tool or a broken install: report, do not crash
        return f"not checked: sendmail oracle failed: {exc}"
    proc = subprocess.run([*virtc, "query", "--json", "--table", str(map_file), "-"],
                          input="\n".join(addresses) + "\n", capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        return f"DIFFERENT: virtc query failed: {proc.stderr.strip()}"
    ours = json.loads(proc.stdout)
    bad = []
    for sm, q in zip_strict(theirs, ours):
        chain = [k.lower() for k in q["chain"]]
        if sm.mailer == "error":
            same = (q["kind"], q["status"], q["text"]) == ("error", sm.host, sm.reply)
        elif sm.mailer == "local":
            same = q["kind"] in ("local", "unmatched") and q["result"] == sm.user
        else:
            same = q["kind"] in ("remote", "not-local", "unmatched") and q["result"] == sm.user
        if not same or chain != [k.lower() for k in sm.matched]:
            bad.append(f"{sm.address}: sendmail {sm.mailer} {sm.host} {sm.user} {sm.matched}, "
                       f"virtc {q['kind']} {q['result']} {q['chain']}")
    if bad:
        return f"DIFFERENT for {len(bad)} of {len(addresses)} addresses, e.g. {bad[0]}"
    return (f"sendmail -bt and `virtc query --json` agree on all {len(addresses)} sampled "
            "addresses (keys, +detail, unknown users)")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{os.cpu_count()} cores (`nproc` {len(os.sched_getaffinity(0))}), {cpu}{mem}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}")


def git_commit() -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %cd", "--date=iso"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "?"


def version(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) else "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="also 3M entries")
    ap.add_argument("--sizes", help="comma-separated entry counts (default 100000,1000000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds per size (median reported)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--startup-runs", type=int, default=15)
    ap.add_argument("--shapes", default="mixed",
                    help=f"comma-separated table shapes, or 'all' ({', '.join(sorted(SHAPES))})")
    ap.add_argument("--rule-times", action="store_true",
                    help="also the time of each lint rule, per shape, at the largest size")
    ap.add_argument("--sendmail-sample", type=int, default=200, metavar="N",
                    help="addresses resolved by the real sendmail through virtc's map (0: skip)")
    args = ap.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [100_000, 1_000_000]
    if args.large:
        sizes.append(3_000_000)
    args.workdir.mkdir(parents=True, exist_ok=True)
    virtc = virtc_argv()
    bench = Bench(args.workdir, find_makemap(), virtc, lint_available(virtc))
    if not bench.lint:
        print("note: `virtc lint` is not available yet; not timed", file=sys.stderr)

    shapes = sorted(SHAPES) if args.shapes == "all" else args.shapes.split(",")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        ap.error(f"unknown shape {unknown[0]!r} (known: {', '.join(sorted(SHAPES))})")
    commit = git_commit()  # what is measured (others may commit during a long run)
    results: dict[tuple[str, int], dict[str, Series]] = {}
    per_rule: dict[str, list[tuple[str, float]]] = {}
    checks: dict[str, str] = {}
    for shape in shapes:
        for entries in sizes:
            src = table_file(args.workdir, entries, args.seed, shape)
            series = {t: Series() for t in TOOLS}
            for r in range(args.repeat):
                print(f"{shape}, {entries} entries, round {r + 1}/{args.repeat} ...", file=sys.stderr)
                runs = bench.round(src, entries, shape)
                base = runs["makemap"].wall
                for tool, run in runs.items():
                    series[tool].runs.append(run)
                    series[tool].ratios.append(run.wall / base)
                print("  " + ", ".join(f"{t}: {r.wall:.2f}s {r.rss_kib / 1024:.0f}MB"
                                       for t, r in runs.items()), file=sys.stderr)
            results[shape, entries] = series
        if args.rule_times:
            per_rule[shape] = rule_times(table_file(args.workdir, sizes[-1], args.seed, shape))

    # After every timing: the checks hold large dumps, and a child forked from a large
    # process reports that process's size as its own peak RSS (Linux keeps the pre-exec
    # high-water mark), so nothing large is ever held here while tools are timed.
    for shape in shapes:
        checks[shape] = correctness(bench, virtc, table_file(args.workdir, sizes[-1], args.seed, shape),
                                    sizes[-1], shape, args)

    small = args.workdir / "small.txt"
    small.write_text(SMALL_TABLE)
    startup = {"virtc --version": median_ms([*virtc, "--version"], args.startup_runs)}
    if bench.lint:
        startup["virtc lint (10 lines)"] = median_ms([*virtc, "lint", str(small)], args.startup_runs)

    print(report(results, startup, checks, sizes[-1], args.repeat,
                 f"{version([*virtc, '--version'])} (commit {commit})"))
    if per_rule:
        print(rule_report(per_rule, sizes[-1]))
    return 1 if any("DIFFERENT" in c for c in checks.values()) else 0


def correctness(bench: Bench, virtc: list[str], src: Path, entries: int, shape: str,
                args: argparse.Namespace) -> str:
    """virtc's map of ``src`` (built in the last round) against makemap's, and through the real
    sendmail."""
    maps = bench.maps(entries, shape)
    ours = maps["virtc build"] if maps["virtc build"].exists() else maps["virtc build --no-lint"]
    if not (ours.exists() and maps["makemap"].exists()):
        return "not checked: a map is missing"
    check = f"`{ours.name}` vs makemap's map: {compare_maps(bench.makemap, bench.cf, ours, maps['makemap'])}"
    if args.sendmail_sample:
        print(f"resolving {args.sendmail_sample} addresses with sendmail ...", file=sys.stderr)
        check += "; through sendmail: " + check_with_sendmail(
            virtc, ours, sample_addresses(src, args.sendmail_sample, args.seed))
    return check


def rule_report(per_rule: dict[str, list[tuple[str, float]]], entries: int) -> str:
    """Seconds per rule (rows) and shape (columns); the slowest rule of each shape in bold."""
    shapes = list(per_rule)
    names = [name for name, _ in per_rule[shapes[0]]]
    lines = ["", f"Time per rule at {entries:,} entries (one process; a rule's time includes the "
             "shared facts it is the first to need):", "",
             "| rule | " + " | ".join(shapes) + " |", "| --- |" + " ---: |" * len(shapes)]
    worst = {s: max((t for n, t in per_rule[s] if n != "parse"), default=0.0) for s in shapes}
    for name in names:
        cells = []
        for s in shapes:
            t = dict(per_rule[s]).get(name, 0.0)
            cells.append(f"**{t:.2f}**" if name != "parse" and t == worst[s] else f"{t:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(results: dict[tuple[str, int], dict[str, Series]], startup: dict[str, float],
           checks: dict[str, str], largest: int, repeat: int, virtc_version: str) -> str:
    lines = [
        f"Machine: {machine()}.  ",
        f"{virtc_version}; makemap from sendmail {sendmail_version()}; "
        f"median of {repeat} rounds; each round runs every tool once on the same table.",
        "",
        "| shape | entries | command | wall time | vs makemap | peak RSS | peak total |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for (shape, entries), series in results.items():
        for tool, s in series.items():
            if not s.ok:
                lines.append(f"| {shape} | {entries:,} | `{tool}` | n/a | | | |")
                continue
            failed = sum(1 for r in s.runs if r.returncode not in (0, 1))
            wall = statistics.median(r.wall for r in s.runs)
            ratio = statistics.median(s.ratios)
            rss = max(r.rss_kib for r in s.runs) / 1024
            total = max(r.total_kib for r in s.runs) / 1024
            note = f" ({failed} failed)" if failed else ""
            lines.append(f"| {shape} | {entries:,} | `{tool}` | {wall:.2f} s{note} | "
                         f"{ratio:.2f}x | {rss:.0f} MB | {total:.0f} MB |")
    lines += ["", "Peak RSS: the largest process (as `/usr/bin/time` reports it); peak total: the "
              "summed PSS of virtc and its helper process, sampled every 50 ms (shared pages counted "
              "once) in a second run: the wall time is of a run nobody samples.", "",
              "| start-up | wall time |", "| --- | ---: |"]
    lines += [f"| `{name}` | {ms:.0f} ms |" for name, ms in startup.items()]
    lines += ["", f"Correctness at {largest:,} entries:", ""]
    lines += [f"- {shape}: {check}." for shape, check in checks.items()]
    return "\n".join(lines)


def sendmail_version() -> str:
    """The installed sendmail-bin's version, else the unpacked oracle's (its dpkg status)."""
    prefix = Path(os.environ.get("VIRTC_ORACLE_PREFIX") or ROOT / ".oracles")
    try:
        proc = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "sendmail-bin"],
                              capture_output=True, text=True, check=False)
        if proc.stdout.strip():
            return proc.stdout.strip()
    except OSError:
        pass
    for changelog in sorted(prefix.glob("usr/share/doc/sendmail-bin/changelog.Debian*")):
        import gzip

        with gzip.open(changelog, "rt", errors="replace") as f:
            first = f.readline()
        if "(" in first:
            return first.split("(", 1)[1].split(")", 1)[0]
    return "?"


if __name__ == "__main__":
    sys.exit(main())
