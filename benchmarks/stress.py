"""Generate virtusertables of shapes that benchmarks/generate.py does not produce.

Usage:
    python benchmarks/stress.py SHAPE N [-o FILE] [--seed S]
    python benchmarks/stress.py --list
    python benchmarks/stress.py --sweep N [--workdir DIR]

N is the number of entries (key/value lines); comments and blank lines come on top.
Output is bytes (some shapes write Latin-1 or CRLF), deterministic for (SHAPE, N, seed).
``--sweep`` writes every shape at N entries and times ``virtc lint`` against ``makemap
hash`` on each (best of two rounds each): a shape whose ratio stands far above the others
is a cliff (#18). The shapes are deliberately awkward (loops, odd reject texts, rings):
many are tables where most entries are findings.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from generate import FIRST, ROLES, TLDS, WORDS  # (the names generate.py's shapes use)
from generate import _local as local
from generate import _user as uname
from generate import domain_name as dom

DETAILS = ("news", "lists", "shop", "github", "bank", "travel", "spam", "work", "amazon", "ebay",
           "paypal", "school", "kids", "tax", "health", "car", "home", "mum", "dad", "club")
REJECT = "error:5.1.1:550 5.1.1 User unknown"
REMOTE = ("gmail.com", "outlook.com", "yahoo.com", "corp.example", "gmx.de", "web.de", "orange.fr")

# An entry is ("E", key, value, sep) ; a raw line is ("R", bytes-or-str)
Item = tuple


def E(k: str, v: str, sep: str = "\t") -> Item:
    return ("E", k, v, sep)


class Domains:
    """The shapes' common loop: domain after domain (``dom(i)``), each with its size drawn
    from ``low``..``high`` (at most the entries left) and a fresh set of used names, until
    the shape has counted ``n`` entries in :attr:`done` (each shape counts its own way)."""

    def __init__(self, n: int, rng: random.Random, low: int, high: int) -> None:
        self.n, self.rng, self.low, self.high = n, rng, low, high
        self.done = 0

    def __iter__(self) -> Iterator[tuple[str, int, set[str]]]:
        i = 0
        while self.done < self.n:
            d = dom(i, self.rng)
            i += 1
            yield d, min(self.n - self.done, self.rng.randint(self.low, self.high)), set()


# ---------------------------------------------------------------------------------------------
def remote_mx(n: int, rng: random.Random) -> Iterator[Item]:
    """Backup-MX / gateway: every catch-all forwards to a per-domain remote MX
    (``@d  %1@d.mx.example`` or ``%1%3@mx1.d``), users forward to remote addresses,
    some domains are forwarded wholesale to another *local* domain's users."""
    doms = Domains(n, rng, 2, 30)
    prev: list[str] = []
    for d, size, used in doms:
        yield E(f"postmaster@{d}", "root")
        for _ in range(size - 2):
            u = uname(rng, used)
            r = rng.random()
            if r < 0.5:
                v = f"{local(u, rng)}@{rng.choice(REMOTE)}"
            elif r < 0.8:
                v = f"{u}@{d}.mx.example"
            elif prev:
                v = f"{uname(rng, set())}@{rng.choice(prev)}"  # a user the other domain may not have
            else:
                v = local(u, rng)
            yield E(f"{u}@{d}", v)
        if size >= 2:
            r = rng.random()
            if r < 0.45:
                v = f"%1@{d}.mx.example"
            elif r < 0.8:
                v = f"%1%3@mx{rng.randrange(3)}.{d}"
            elif prev:
                v = f"%1@{rng.choice(prev)}"  # domain forwarded to another local domain
            else:
                v = REJECT
            yield E(f"@{d}", v)
        prev.append(d)
        if len(prev) > 500:
            del prev[:250]
        doms.done += max(size, 1)


def deep_chains(n: int, rng: random.Random) -> Iterator[Item]:
    """Forward chains 10-20 deep, every hop in a different local domain, plus rings
    (a1->a2->...->a1) of 3-12 hops and catch-all chains/rings (``@d1 %1@d2`` ...)."""
    # Domains are pooled; each chain picks distinct domains.
    ndom = max(50, n // 30)
    doms = [dom(i, rng) for i in range(ndom)]
    used = {d: set() for d in doms}
    out: list[Item] = []
    count = 0
    while count < n:
        r = rng.random()
        if r < 0.75:  # linear chain of plain forwards
            depth = rng.randint(10, 20)
            hops = []
            for d in rng.sample(doms, depth):
                hops.append(f"{uname(rng, used[d])}@{d}")
            for a, b in zip(hops, hops[1:]):
                out.append(E(a, b))
            out.append(E(hops[-1], local(hops[-1], rng)))
            count += depth
        elif r < 0.9:  # ring
            depth = rng.randint(3, 12)
            hops = [f"{uname(rng, used[d])}@{d}" for d in rng.sample(doms, depth)]
            for a, b in zip(hops, hops[1:] + hops[:1]):
                out.append(E(a, b))
            count += depth
        else:  # chain of domain aliases through catch-alls, sometimes ringed
            depth = rng.randint(5, 15)
            ds = [f"alias{count}x{k}.{rng.choice(TLDS)}" for k in range(depth)]
            for a, b in zip(ds, ds[1:]):
                out.append(E(f"@{a}", f"%1%3@{b}"))
            if rng.random() < 0.3:
                out.append(E(f"@{ds[-1]}", f"%1%3@{ds[0]}"))
            else:
                out.append(E(f"@{ds[-1]}", f"%1%3@{rng.choice(doms)}"))
            count += depth
    rng.shuffle(out)
    out = out[:n]
    # catch-alls for the pooled domains (counted in n by replacing the tail)
    cas = [E(f"@{d}", REJECT) for d in doms]
    out = out[:max(0, n - len(cas))] + cas
    yield from out[:n]


def big_domain(n: int, rng: random.Random) -> Iterator[Item]:
    """One domain with almost every user, plus many alias domains of it
    (``@aliasN  %1%3@big``), and users of other small domains forwarding to
    ``user@aliasN`` (the address people were given)."""
    big = "bigisp.example"
    naliases = max(10, n // 150)
    nsmall = n // 20
    nbig = n - naliases - nsmall - 1
    used: set[str] = set()
    users = []
    yield E(f"postmaster@{big}", "root")
    for _ in range(nbig):
        u = uname(rng, used)
        users.append(u)
        yield E(f"{u}@{big}", local(u, rng))
    yield E(f"@{big}", REJECT)
    aliases = [f"{rng.choice(WORDS)}-mail{k}.{rng.choice(TLDS)}" for k in range(naliases - 1)]
    for a in aliases:
        yield E(f"@{a}", rng.choice(("%1%3@", "%1@")) + big)
    k = 0
    i = 0
    while k < nsmall:
        d = dom(i, rng)
        i += 1
        su: set[str] = set()
        for _ in range(min(nsmall - k, rng.randint(1, 9))):
            u = uname(rng, su)
            if rng.random() < 0.7:
                v = f"{rng.choice(users)}@{rng.choice(aliases)}"
            elif rng.random() < 0.5:
                v = f"{uname(rng, set())}@{rng.choice(aliases)}"  # nonexistent -> dangling
            else:
                v = f"{rng.choice(users)}@{big}"
            yield E(f"{u}@{d}", v)
            k += 1


def case_dups(n: int, rng: random.Random) -> Iterator[Item]:
    """Tables merged from several sources: mixed/upper case keys, the same key twice
    in different case (same or different value), trailing dots in domains, and
    upper-case domains in values."""
    doms = Domains(n, rng, 3, 40)
    for d, size, used in doms:
        lines: list[Item] = [E(f"postmaster@{d}", "root")]
        keys = []
        while len(lines) < size - 1:
            u = uname(rng, used)
            style = rng.random()
            if style < 0.3:
                k = f"{u}@{d}".upper()
            elif style < 0.6:
                k = f"{u.capitalize()}@{d.capitalize()}"
            elif style < 0.65:
                k = f"{u}@{d}."
            else:
                k = f"{u}@{d}"
            v = local(u, rng) if rng.random() < 0.7 else f"{u}@{rng.choice(REMOTE).upper()}"
            lines.append(E(k, v))
            keys.append((k, v))
            if keys and rng.random() < 0.15 and len(lines) < size - 1:
                k2, v2 = rng.choice(keys)
                k2 = k2.swapcase() if rng.random() < 0.5 else k2
                lines.append(E(k2, v2 if rng.random() < 0.5 else local(u, rng)))
        lines.append(E(f"@{d.upper() if rng.random() < 0.2 else d}", REJECT))
        if rng.random() < 0.1:  # the whole domain pasted twice
            lines += lines[: max(0, min(len(lines), size) // 4)]
        yield from lines[:n - doms.done]
        doms.done += min(len(lines), n - doms.done)


def lists(n: int, rng: random.Random) -> Iterator[Item]:
    """Converted from Postfix/aliases: values that are lists ``a@x, b@y``, local
    forwards ``user@localdomain`` to other keys, ``@otherdomain``, ``!``, ``@``,
    ``|prog``, ``/path``, ``:include:``, quoted values."""
    doms = Domains(n, rng, 3, 30)
    keys: list[str] = []
    for d, size, used in doms:
        yield E(f"postmaster@{d}", "root")
        for _ in range(size - 2):
            u = uname(rng, used)
            r = rng.random()
            if r < 0.3 and keys:
                v = ", ".join(rng.sample(keys, min(len(keys), rng.randint(2, 6))))
            elif r < 0.55 and keys:
                v = rng.choice(keys)  # local forward to another key
            elif r < 0.6:
                v = f"@{rng.choice(REMOTE)}"
            elif r < 0.63:
                v = rng.choice(("!", "@", "|/usr/bin/procmail", f"/var/mail/{u}",
                                f":include:/etc/mail/lists/{u}", f'"{u}@{d}"', f"{u} {u}2"))
            else:
                v = local(u, rng)
            key = f"{u}@{d}"
            yield E(key, v)
            keys.append(key)
            if len(keys) > 3000:
                del keys[:1500]
        yield E(f"@{d}", REJECT)
        doms.done += size


def errors(n: int, rng: random.Random) -> Iterator[Item]:
    """Thousands of distinct reject texts with odd characters, ``error:nouser``,
    4xx temporary rejects, DSN/code mismatches, quoted and malformed errors."""
    doms = Domains(n, rng, 2, 40)
    odd = ("ü", "é", "%", "\\", "\"", "'", "<", ">", "(", ")", ";", ":", ",", "$", "#", "{", "}",
           "[", "]", "|", "*", "?", "  ", "%1", "%2", "=", "&")
    for d, size, used in doms:
        yield E(f"postmaster@{d}", "root")
        for _ in range(size - 2):
            u = uname(rng, used)
            r = rng.random()
            txt = " ".join(rng.choice(WORDS) + rng.choice(odd) for _ in range(rng.randint(1, 12)))
            if r < 0.25:
                v = f"error:5.1.1:550 5.1.1 {u} {txt} (ticket #{rng.randrange(10**7)})"
            elif r < 0.35:
                v = f"error:nouser 550 {txt}"
            elif r < 0.45:
                v = f"error:4.2.{rng.randrange(5)}:45{rng.randrange(3)} Mailbox {txt} try later"
            elif r < 0.5:
                v = f"error:tempfail 451 {txt}"
            elif r < 0.55:
                v = rng.choice((f"error:5.1.1:450 {txt}", f"error:550 {txt}", f"\"error:5.1.1:550 {txt}\"",
                                f"error:5.1.1 550 {txt}", f"error:nouser {txt}", "error:5.1.1:550",
                                f"ERROR:5.1.1:550 {txt}", f"error:5.x.1:550 {txt}", f"REJECT {txt}"))
            else:
                v = local(u, rng)
            yield E(f"{u}@{d}", v)
        if size >= 2:
            yield E(f"@{d}", rng.choice((f"error:nouser 550 No such user at {d}",
                                         f"error:5.1.1:550 5.1.1 <%1@{d}>: unknown",
                                         f"error:4.4.1:451 {d} is being migrated, try again",
                                         REJECT)))
        doms.done += max(size, 1)


def plus_bulk(n: int, rng: random.Random) -> Iterator[Item]:
    """Heavy subaddressing: each user with 5-20 ``user+tag@d`` keys, a ``user+*@d``
    (``%2``/``%3`` values), some ``user++@d``, domain ``+*@d``/``++@d``, catch-alls
    with ``%1%3``/``%1+%2``, and values with ``%2``/``%3`` on exact keys."""
    doms = Domains(n, rng, 10, 200)
    for d, size, used in doms:
        lines: list[Item] = [E(f"postmaster@{d}", "root")]
        store = f"store{rng.randrange(20)}.example"
        r = rng.random()
        if r < 0.3:
            lines.append(E(f"+*@{d}", f"%1+%2@{store}"))
        elif r < 0.5:
            lines.append(E(f"++@{d}", f"%1%3@{store}"))
            lines.append(E(f"+*@{d}", f"%1@{store}"))
        while len(lines) < size - 1:
            u = uname(rng, used)
            lo = local(u, rng)
            lines.append(E(f"{u}@{d}", lo))
            for t in rng.sample(DETAILS, rng.randint(5, 20)):
                lines.append(E(f"{u}+{t}@{d}", rng.choice((f"{lo}+{t}", f"{lo}-{t}", f"{lo}%3", lo,
                                                           f"{lo}+%2", f"{u}@{d}"))))
            w = rng.random()
            if w < 0.6:
                lines.append(E(f"{u}+*@{d}", rng.choice((f"{lo}+%2", f"{lo}%3", f"%1%3@{store}", f"{lo}"))))
            elif w < 0.8:
                lines.append(E(f"{u}++@{d}", f"{lo}+%2"))
                if rng.random() < 0.5:
                    lines.append(E(f"{u}+*@{d}", lo))
        lines = lines[:size - 1]
        lines.append(E(f"@{d}", rng.choice((f"%1%3@{store}", f"%1+%2@{store}", REJECT, f"%1@{store}"))))
        yield from lines
        doms.done += len(lines)


def self_loops(n: int, rng: random.Random) -> Iterator[Item]:
    """Misconfigured catch-alls: ``@d  %1@d`` (self-reference), ``@d  %1%3@d2`` with
    ``@d2 %1@d`` (pairs), users forwarding ``u@d  u@d`` (Postfix style), and
    ``@d  postmaster@d`` with postmaster going back through the catch-all."""
    doms = Domains(n, rng, 2, 25)
    prev = None
    for d, size, used in doms:
        lines: list[Item] = [E(f"postmaster@{d}", rng.choice(("root", f"admin@{d}")))]
        while len(lines) < size - 1:
            u = uname(rng, used)
            r = rng.random()
            if r < 0.2:
                v = f"{u}@{d}"  # Postfix-style self map
            elif r < 0.3:
                v = f"{u.upper()}@{d.upper()}"
            else:
                v = local(u, rng)
            lines.append(E(f"{u}@{d}", v))
        r = rng.random()
        if r < 0.4:
            ca = f"%1@{d}"
        elif r < 0.6:
            ca = f"%1%3@{d}"
        elif r < 0.8 and prev:
            ca = f"%1%3@{prev}"
        else:
            ca = f"postmaster@{d}"
        lines = lines[:size - 1]
        lines.append(E(f"@{d}", ca))
        yield from lines
        doms.done += len(lines)
        prev = d


def messy(n: int, rng: random.Random) -> Iterator[Item]:
    """Hand-edited over years: a comment and/or blank line between every entry, CRLF
    endings on some stretches, spaces vs tabs vs mixed separators, trailing blanks,
    inline ``# comments``, indented continuation lines, whitespace-only lines."""
    doms = Domains(n, rng, 3, 40)
    crlf = False
    for d, size, used in doms:
        if rng.random() < 0.2:
            crlf = not crlf
        nl = "\r\n" if crlf else "\n"
        yield ("R", f"#{'#' * rng.randrange(40)} {d} {'=' * rng.randrange(60)}{nl}")
        for k in range(size):
            if k == 0:
                key, v = f"postmaster@{d}", "root"
            elif k == size - 1:
                key, v = f"@{d}", REJECT
            else:
                u = uname(rng, used)
                key, v = f"{u}@{d}", local(u, rng)
            r = rng.random()
            if r < 0.1:
                v += " " * rng.randint(1, 4)
            elif r < 0.15:
                v += "\t"
            elif r < 0.2:
                v += f"   # ticket {rng.randrange(10**5)} added by {rng.choice(FIRST)}"
            sep = rng.choice(("\t", " ", "  ", "\t\t", " \t ", " " * 20))
            yield ("R", f"{key}{sep}{v}{nl}")
            c = rng.random()
            if c < 0.5:
                yield ("R", f"# {rng.choice(FIRST)} {rng.randrange(2000, 2025)}-{rng.randrange(1, 13):02} "
                            f"{rng.choice(WORDS)}{nl}")
            elif c < 0.8:
                yield ("R", nl)
            elif c < 0.83:
                yield ("R", f"   {nl}")
            elif c < 0.85:
                yield ("R", f"\t{rng.choice(FIRST)}@{d}{nl}")  # continuation line
        doms.done += size


def latin1(n: int, rng: random.Random) -> Iterator[Item]:
    """European legacy table: Latin-1 bytes in local parts, UTF-8 names (some with
    capitals, VT108), IDN domains in punycode and in UTF-8."""
    done = i = 0
    names = ("jörg", "jürgen", "müller", "françois", "josé", "zoë", "søren", "łukasz", "ñoño",
             "björn", "ålesund", "Ölaf", "ÉLISE", "Ümit", "çelik", "ǅemal")
    while done < n:
        r = rng.random()
        if r < 0.1:
            d = f"xn--mller-kva{i}.de"
        elif r < 0.2:
            d = f"müller{i}.de"
        else:
            d = dom(i, rng)
        i += 1
        size = min(n - done, rng.randint(2, 30))
        used: set[str] = set()
        lines: list[Item] = [E(f"postmaster@{d}", "root")]
        while len(lines) < size - 1:
            u = uname(rng, used)
            nm = f"{rng.choice(names)}.{u}"
            enc = rng.random()
            k = f"{nm}@{d}"
            if enc < 0.3:
                lines.append(("B", k.encode("latin-1", "replace"), local(u, rng).encode()))
            else:
                lines.append(E(k, rng.choice((local(u, rng), f"{nm}@{rng.choice(REMOTE)}"))))
        lines = lines[:size - 1]
        lines.append(E(f"@{d}", REJECT))
        yield from lines
        done += len(lines)


def fan_in(n: int, rng: random.Random) -> Iterator[Item]:
    """Corporate group: every domain's role addresses (abuse@, postmaster@, info@ ...) forward
    to one HQ address, which itself forwards through a few hops; plus domains whose
    catch-all forwards to hq (``@d  catchall@hq``)."""
    hq = "hq.group.example"
    yield E(f"abuse@{hq}", f"abuse@noc.{hq}")
    yield E(f"abuse@noc.{hq}", f"tickets@helpdesk.{hq}")
    yield E(f"tickets@helpdesk.{hq}", "helpdesk")
    yield E(f"postmaster@{hq}", f"abuse@{hq}")
    yield E(f"catchall@{hq}", f"postmaster@{hq}")
    yield E(f"@{hq}", REJECT)
    yield E(f"@noc.{hq}", REJECT)
    yield E(f"@helpdesk.{hq}", REJECT)
    doms = Domains(n, rng, 2, 20)
    doms.done = 8
    for d, size, used in doms:
        lines: list[Item] = []
        for role in rng.sample(ROLES, min(len(ROLES), max(1, size // 2))):
            used.add(role)
            lines.append(E(f"{role}@{d}", rng.choice((f"abuse@{hq}", f"postmaster@{hq}",
                                                     f"{role}@{hq}", f"catchall@{hq}"))))
        while len(lines) < size - 1:
            u = uname(rng, used)
            lines.append(E(f"{u}@{d}", local(u, rng)))
        lines = lines[:size - 1]
        lines.append(E(f"@{d}", rng.choice((REJECT, f"catchall@{hq}", f"%1%3@{hq}"))))
        yield from lines
        doms.done += len(lines)


def subdomains(n: int, rng: random.Random) -> Iterator[Item]:
    """University/department tree: deep subdomains (``u@a.b.c.dept.uni.example``),
    each level's catch-all forwarding unknown users to its parent (``@a.b.c  %1%3@b.c``),
    the top one rejecting."""
    done = i = 0
    while done < n:
        uni = f"uni{i}.{rng.choice(TLDS)}"
        i += 1
        levels = [uni]
        for k in range(rng.randint(3, 8)):
            levels.append(f"{rng.choice(WORDS)}{k}.{levels[-1]}")
        for lv in reversed(levels):
            if done >= n:
                return
            used: set[str] = set()
            size = min(n - done, rng.randint(2, 40))
            for _ in range(size - 1):
                u = uname(rng, used)
                yield E(f"{u}@{lv}", local(u, rng) if rng.random() < 0.8 else f"{u}@{uni}")
            parent = lv.split(".", 1)[1]
            yield E(f"@{lv}", f"%1%3@{parent}" if lv != uni else REJECT)
            done += size


# --- growth probes (less realistic, to look for superlinear growth) --------------------------
def stress_ring(n: int, rng: random.Random) -> Iterator[Item]:
    """One forwarding ring through every entry, spread over n/50 domains (each with a
    catch-all): u0@d0 -> u1@d1 -> ... -> u0@d0."""
    nd = max(2, n // 50)
    doms = [dom(i, rng) for i in range(nd)]
    m = n - nd
    hops = [f"u{k}@{doms[k % nd]}" for k in range(m)]
    for k in range(m):
        yield E(hops[k], hops[(k + 1) % m])
    for d in doms:
        yield E(f"@{d}", REJECT)


def stress_alias_chain(n: int, rng: random.Random) -> Iterator[Item]:
    """Domain aliases of aliases in long chains (@a_i  %1%3@a_i+1), 1000 deep; every
    chain ends at a hosted domain with a postmaster and a reject."""
    depth = 1000
    k = 0
    c = 0
    while k < n:
        top = f"hosted{c}.example"
        yield E(f"postmaster@{top}", "root")
        yield E(f"@{top}", REJECT)
        k += 2
        prev = top
        for j in range(min(depth, n - k)):
            a = f"a{c}x{j}.example"
            yield E(f"@{a}", f"%1%3@{prev}")
            prev = a
            k += 1
        c += 1


def stress_details(n: int, rng: random.Random) -> Iterator[Item]:
    """Few users with thousands of +tag keys each (a catch-all-by-tag scheme),
    each user with a user+*@ wildcard and the domain with +*@ and a %1%3 catch-all."""
    d = "tags.example"
    yield E(f"postmaster@{d}", "root")
    yield E(f"+*@{d}", "%1+%2@store.example")
    yield E(f"@{d}", "%1%3@store.example")
    k = 3
    u = 0
    while k < n:
        yield E(f"user{u}@{d}", f"user{u}")
        yield E(f"user{u}+*@{d}", f"user{u}+%2")
        k += 2
        for t in range(min(5000, n - k)):
            yield E(f"user{u}+tag{t}@{d}", rng.choice((f"user{u}+tag{t}", f"user{u}%3", f"user{u}")))
            k += 1
        u += 1


def stress_concat(n: int, rng: random.Random) -> Iterator[Item]:
    """Three versions of the same table concatenated (cat old new newer > vt): every
    key three times, a third of the values changed between copies."""
    m = max(1, n // 3)
    base = []
    i = 0
    while len(base) < m:
        d = dom(i, rng)
        i += 1
        used: set[str] = set()
        base.append((f"postmaster@{d}", "root"))
        for _ in range(rng.randint(2, 40)):
            u = uname(rng, used)
            base.append((f"{u}@{d}", local(u, rng)))
        base.append((f"@{d}", REJECT))
    base = base[:m]
    for copy in range(3):
        for k, v in base:
            yield E(k, v if rng.random() < 0.67 else v + str(copy))
    for k, v in base[: n - 3 * m]:
        yield E(k, v)


def stress_pct_big(n: int, rng: random.Random) -> Iterator[Item]:
    """One hosted domain of n users on a mail store: ``u@big  uN%3@store`` beside
    ``@big  %1%3@store``, some users with ``u+*@big``, a few plain mailboxes."""
    d = "big.example"
    yield E(f"postmaster@{d}", "root")
    yield E(f"@{d}", "%1%3@store.example")
    used: set[str] = set()
    k = 2
    while k < n:
        u = uname(rng, used)
        r = rng.random()
        yield E(f"{u}@{d}", f"{local(u, rng)}%3@store.example" if r < 0.6 else
                f"{u}%3@store.example" if r < 0.8 else local(u, rng))
        k += 1
        if k < n and rng.random() < 0.2:
            yield E(f"{u}+*@{d}", f"{local(u, rng)}+%2@store.example")
            k += 1


def stress_pct_errors(n: int, rng: random.Random) -> Iterator[Item]:
    """The mixed hosting table, but a third of the users reject with a text holding a
    percent sign (``error:5.2.2:552 5.2.2 Mailbox full (100% of 2 GB)``)."""
    doms = Domains(n, rng, 2, 60)
    for d, size, used in doms:
        yield E(f"postmaster@{d}", "root")
        for _ in range(size - 2):
            u = uname(rng, used)
            v = (f"error:5.2.2:552 5.2.2 Mailbox of {u} full ({rng.randrange(100, 120)}% of 2 GB)"
                 if rng.random() < 0.33 else local(u, rng))
            yield E(f"{u}@{d}", v)
        if size >= 2:
            yield E(f"@{d}", REJECT)
        doms.done += max(size, 1)


def percent_hack(n: int, rng: random.Random) -> Iterator[Item]:
    """Legacy gateway: half the users routed with the %-hack through a relay
    (``u@d  u%d@gw1.relay.example``), the rest local, every domain rejecting."""
    done = i = 0
    while done < n:
        d = f"legacy{i}.example"
        i += 1
        size = min(n - done, rng.randint(3, 42))
        used: set[str] = set()
        yield E(f"postmaster@{d}", "root")
        for _ in range(size - 2):
            u = uname(rng, used)
            yield E(f"{u}@{d}", f"{u}%{d}@gw{rng.randrange(3)}.relay.example" if rng.random() < 0.5
                    else local(u, rng))
        yield E(f"@{d}", REJECT)
        done += size


def mailbox_names(n: int, rng: random.Random) -> Iterator[Item]:
    """Mailboxes named after their domain, as control panels make them: half the domains
    hand unknown users to ``%1%3.d`` (``user.d``, keeping the detail), half to ``d-%1``;
    users go to their own such mailbox (what the catch-all would give them), another
    local user or a remote address."""
    doms = Domains(n, rng, 3, 30)
    for at, (d, size, used) in enumerate(doms):
        dotted = at % 2 == 1
        yield E(f"postmaster@{d}", "root")
        for _ in range(size - 2):
            u = uname(rng, used)
            r = rng.random()
            own = f"{u}.{d}" if dotted else f"{d.split('.')[0]}-{u}"
            v = own if r < 0.5 else local(u, rng) if r < 0.8 else f"{local(u, rng)}@{rng.choice(REMOTE)}"
            yield E(f"{u}@{d}", v)
        yield E(f"@{d}", f"%1%3.{d}" if dotted else f"{d.split('.')[0]}-%1")
        doms.done += size


SHAPES = {"remote_mx": remote_mx, "deep_chains": deep_chains, "big_domain": big_domain,
          "case_dups": case_dups, "lists": lists, "errors": errors, "plus_bulk": plus_bulk,
          "self_loops": self_loops, "messy": messy, "latin1": latin1, "fan_in": fan_in,
          "subdomains": subdomains, "stress_ring": stress_ring,
          "stress_alias_chain": stress_alias_chain, "stress_details": stress_details,
          "stress_concat": stress_concat, "stress_pct_big": stress_pct_big,
          "stress_pct_errors": stress_pct_errors, "percent_hack": percent_hack,
          "mailbox_names": mailbox_names}


def write(shape: str, n: int, seed: int, out) -> None:
    rng = random.Random(seed)
    out.write(f"# cliffs/gen.py shape {shape}: {n} entries, seed {seed}\n".encode())
    for it in SHAPES[shape](n, rng):
        if it[0] == "E":
            out.write(f"{it[1]}{it[3]}{it[2]}\n".encode())
        elif it[0] == "B":
            out.write(it[1] + b"\t" + it[2] + b"\n")
        else:
            out.write(it[1].encode() if isinstance(it[1], str) else it[1])


def sweep(entries: int, seed: int, workdir: Path) -> None:
    """Every shape at ``entries``: ``virtc lint`` and ``makemap hash`` wall times (best of
    two rounds) and their ratio, one line a shape."""
    from run import find_makemap, timed, virtc_argv

    workdir.mkdir(parents=True, exist_ok=True)
    cf = workdir / "empty.cf"
    cf.write_text("# empty sendmail.cf for makemap -C\n")
    makemap, virtc = find_makemap(), virtc_argv()
    print(f"{'shape':20} {'lint':>8} {'makemap':>8} {'ratio':>6}")
    for shape in SHAPES:
        table = workdir / f"stress-{shape}-{entries}-s{seed}.txt"
        if not table.exists():
            with table.open("wb") as f:
                write(shape, entries, seed, f)
        lint = min(timed([*virtc, "lint", "-q", str(table)], ok=(0, 1)).wall for _ in range(2))
        argv = [makemap, "-C", str(cf), "hash", str(workdir / "stress-map")]
        made = min(timed(argv, stdin=table, ok=(0, 65)).wall for _ in range(2))  # (65: duplicates)
        print(f"{shape:20} {lint:7.2f}s {made:7.2f}s {lint / made:5.2f}x", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shape", nargs="?", choices=sorted(SHAPES))
    ap.add_argument("entries", nargs="?", type=int)
    ap.add_argument("-o", "--output")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--sweep", type=int, metavar="N", help="time virtc lint and makemap on every shape")
    ap.add_argument("--workdir", type=Path, default=Path("build/stress"))
    a = ap.parse_args()
    if a.sweep:
        sweep(a.sweep, a.seed, a.workdir)
        return 0
    if a.list or not a.shape:
        for k, f in SHAPES.items():
            print(f"{k:12} {' '.join(f.__doc__.split())}")
        return 0
    if a.output:
        with open(a.output, "wb") as f:
            write(a.shape, a.entries, a.seed, f)
    else:
        write(a.shape, a.entries, a.seed, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
