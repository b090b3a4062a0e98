"""Generate a realistic, seeded virtusertable of N entries (for the benchmarks).

The table looks like a hosting provider's: many domains, each introduced by a
comment and separated by a blank line; mostly ``user@domain`` mailboxes
delivered to local users, some forwards to addresses in other domains,
``user+detail@domain`` keys, ``user++@`` / ``user+*@`` / ``++@`` / ``+*@``
wildcards, and a catch-all that rejects unknown users with an ``error:`` value.
Keys are unique (after ASCII folding), every entry is one that makemap accepts,
and ``virtc lint`` finds nothing, so every tool does its full work. The same
(N, seed, shape) always gives the same bytes.

``--shape`` picks one of several realistic shapes (``SHAPES``), so that no rule is tuned
to one of them:

    python benchmarks/generate.py 1000000 -o build/bench/vt-1000000.txt
    python benchmarks/generate.py 1000000 --shape tiny -o build/bench/vt-tiny.txt
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
         "xavier", "yolanda", "zoe", "anna", "marc", "lea", "paul", "ines", "omar", "chen", "ravi")
ROLES = ("info", "sales", "support", "billing", "admin", "webmaster", "postmaster", "abuse",
         "contact", "jobs", "press", "noc", "security", "office", "hello")
WORDS = ("acme", "north", "blue", "river", "stone", "cloud", "pixel", "green", "alpha", "delta",
         "orbit", "maple", "cedar", "atlas", "nova", "lumen", "terra", "vista", "quartz", "ember")
TLDS = ("com", "net", "org", "de", "fr", "co.uk", "io", "example")
DETAILS = ("news", "lists", "shop", "github", "bank", "travel", "spam", "work")
CATCH_ALLS = ("error:5.1.1:550 5.1.1 User unknown", "error:5.1.1:550 User unknown",
              "error:5.7.1:550 5.7.1 Mailbox not available")
MEAN_PER_DOMAIN = 40
VERSION = 4
"""Bumped whenever the output changes (cached tables are named after it)."""


def domain_name(index: int, rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}{rng.choice(WORDS)}{index}.{rng.choice(TLDS)}"


def domain_block(domain: str, size: int, targets: list[str], created: list[str],
                 rng: random.Random) -> Iterator[str]:
    """The lines of one domain: ``size`` entries (plus a comment and a blank line).

    Forwards go to existing mailboxes in ``targets``; this domain's mailboxes are
    appended to ``created``.
    """
    yield f"# {domain}: {size} entries"
    used: set[str] = set()
    n = 0

    def fresh_user() -> str:
        while True:
            if rng.random() < 0.15:
                user = rng.choice(ROLES)
            else:
                user = f"{rng.choice(FIRST)}.{rng.choice(FIRST)}{rng.randrange(1000)}"
            if user not in used:
                used.add(user)
                return user

    if size == 1:  # a parked domain: every address is rejected
        yield f"@{domain}\t{CATCH_ALLS[0]}"
        yield ""
        return
    catch_all = True
    used.add("postmaster")  # RFC 5321 wants it in every domain (VT213): a kept table has it
    yield f"postmaster@{domain}\troot"
    n += 1
    if size >= 4 and rng.random() < 0.1:
        yield f"+*@{domain}\t{rng.choice(FIRST)}{rng.randrange(1000)}"
        n += 1
    elif size >= 4 and rng.random() < 0.05:
        yield f"++@{domain}\t{rng.choice(FIRST)}{rng.randrange(1000)}"
        n += 1
    while n < size - catch_all:
        user = fresh_user()
        r = rng.random()
        if r < 0.70:  # a mailbox on this host
            value = f"{user.split('.')[0]}{rng.randrange(10000)}"
            created.append(f"{user}@{domain}")
        elif r < 0.85 and targets:  # a forward to a mailbox of another domain
            value = rng.choice(targets)
        elif r < 0.90:
            value = f"{user.split('.')[0]}{rng.randrange(10000)}@gmail.com"
        elif r < 0.95 and n + 2 < size - catch_all:  # a mailbox with detail keys
            local = f"{user.split('.')[0]}{rng.randrange(10000)}"
            yield f"{user}@{domain}\t{local}"
            wild = "++" if rng.random() < 0.5 else "+*"
            yield f"{user}{wild}@{domain}\t{local}"
            n += 2
            continue
        elif n + 1 < size - catch_all:
            local = f"{user.split('.')[0]}{rng.randrange(10000)}"
            yield f"{user}@{domain}\t{local}"
            yield f"{user}+{rng.choice(DETAILS)}@{domain}\t{local}"
            n += 2
            continue
        else:
            value = f"{user.split('.')[0]}{rng.randrange(10000)}"
        sep = "\t" if rng.random() < 0.8 else " " * rng.randint(1, 8)
        yield f"{user}@{domain}{sep}{value}"
        n += 1
    if catch_all:
        yield f"@{domain}\t{rng.choice(CATCH_ALLS)}"
    yield ""


def generate(entries: int, seed: int = 1, out: TextIO = sys.stdout) -> None:
    """Write a table of exactly ``entries`` entries to ``out``."""
    rng = random.Random(seed)
    out.write(f"# virtusertable generated by benchmarks/generate.py: {entries} entries, seed {seed}\n\n")
    done = 0
    index = 0
    targets: list[str] = []
    while done < entries:
        size = min(entries - done, max(2, int(rng.expovariate(1 / MEAN_PER_DOMAIN))))
        domain = domain_name(index, rng)
        index += 1
        created: list[str] = []
        block = list(domain_block(domain, size, targets, created, rng))
        out.write("\n".join(block))
        out.write("\n")
        done += size
        targets.extend(created[:5])
        if len(targets) > 200:
            del targets[:-200]


def _user(rng: random.Random, used: set[str]) -> str:
    while True:
        user = f"{rng.choice(FIRST)}.{rng.choice(FIRST)}{rng.randrange(100000)}"
        if user not in used:
            used.add(user)
            return user


def _postmaster(domain: str, used: set[str]) -> tuple[str, str]:
    """The first entry of every domain of two entries or more (VT213: a kept table has it)."""
    used.add("postmaster")
    return f"postmaster@{domain}", "root"


def _local(user: str, rng: random.Random) -> str:
    return f"{user.split('.')[0]}{rng.randrange(10000)}"


def tiny_domains(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Many domains of 2-5 entries, each with its own catch-all text; one domain in
    eight is an alias of an earlier one (``@alias  %1@target``)."""
    done = index = 0
    hosted: list[str] = []
    while done < entries:
        domain = domain_name(index, rng)
        index += 1
        if hosted and rng.random() < 0.125:
            yield f"@{domain}", f"%1%3@{rng.choice(hosted)}"
            done += 1
            continue
        size = min(entries - done, rng.randint(2, 5))
        used: set[str] = set()
        for k in range(size - 1):
            if k == 0:
                yield _postmaster(domain, used)
                continue
            user = _user(rng, used)
            yield f"{user}@{domain}", _local(user, rng)
        yield f"@{domain}", f"error:5.1.1:550 5.1.1 No such user at {domain}"
        hosted.append(domain)
        done += size


def open_domains(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Many domains of 2-5 entries and not one catch-all: a table before its first
    ``virtc lint`` (every domain a VT101 finding, with its fix)."""
    done = index = 0
    while done < entries:
        domain = domain_name(index, rng)
        index += 1
        size = min(entries - done, rng.randint(2, 5))
        used: set[str] = set()
        yield _postmaster(domain, used)
        for _ in range(size - 1):
            user = _user(rng, used)
            yield f"{user}@{domain}", _local(user, rng)
        done += size


def huge_domains(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Ten domains of 100k users each (at 1M entries), forwards within and between them."""
    domains = [domain_name(i, rng) for i in range(max(1, entries // 100_000))]
    per = -(-entries // len(domains))
    done = 0
    recent: list[str] = []
    for domain in domains:
        used: set[str] = set()
        size = min(per, entries - done)
        for k in range(size - 1):
            if k == 0:
                yield _postmaster(domain, used)
                continue
            user = _user(rng, used)
            key = f"{user}@{domain}"
            if recent and rng.random() < 0.1:
                yield key, rng.choice(recent)
            else:
                yield key, _local(user, rng)
                recent.append(key)
                if len(recent) > 1000:
                    del recent[:500]
        yield f"@{domain}", CATCH_ALLS[0]
        done += size


def _sized_domains(entries: int, rng: random.Random, size: Callable[[], int]) -> Iterator[tuple[str, int]]:
    """Fresh domains and their sizes (from ``size()``), until there are ``entries`` entries."""
    done = index = 0
    while done < entries:
        domain = domain_name(index, rng)
        index += 1
        n = min(entries - done, size())
        yield domain, n
        done += n


def _mean_size(rng: random.Random) -> Callable[[], int]:
    return lambda: max(2, int(rng.expovariate(1 / MEAN_PER_DOMAIN)))


def chains(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Half the entries forward to a key of another local domain, in chains up to 8 deep."""
    depth: dict[str, int] = {}
    heads: list[str] = []
    for domain, size in _sized_domains(entries, rng, lambda: rng.randint(20, 60)):
        used: set[str] = set()
        for k in range(size - 1):
            if k == 0:
                yield _postmaster(domain, used)
                continue
            key = f"{_user(rng, used)}@{domain}"
            if heads and rng.random() < 0.5:
                target = rng.choice(heads)
                yield key, target
                depth[key] = depth[target] + 1
            else:
                yield key, _local(key, rng)
                depth[key] = 0
            if depth[key] < 8:
                heads.append(key)
                if len(heads) > 2000:
                    del heads[:1000]
        yield f"@{domain}", rng.choice(CATCH_ALLS)


def plus_everywhere(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Every mailbox has ``+detail`` keys and a ``user+*`` or ``user++`` wildcard."""
    for domain, size in _sized_domains(entries, rng, _mean_size(rng)):
        used: set[str] = set()
        n = 0
        if size >= 2:
            yield _postmaster(domain, used)
            n = 1
        while n < size - 1:
            user = _user(rng, used)
            local = _local(user, rng)
            lines = [(f"{user}@{domain}", local),
                     (f"{user}{rng.choice(('++', '+*'))}@{domain}", f"{local}+%2")]
            lines += [(f"{user}+{d}@{domain}", f"{local}-{d}") for d in rng.sample(DETAILS, 2)]
            for key, value in lines[:size - 1 - n]:
                yield key, value
                n += 1
        yield f"@{domain}", CATCH_ALLS[0]


def error_texts(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """A third of the entries reject with a text of their own (retired users, moved staff)."""
    for domain, size in _sized_domains(entries, rng, _mean_size(rng)):
        used: set[str] = set()
        for k in range(size - 1):
            if k == 0:
                yield _postmaster(domain, used)
                continue
            user = _user(rng, used)
            if rng.random() < 0.33:
                left = f"{rng.randrange(1, 29)}.{rng.randrange(1, 13)}.20{rng.randrange(10, 27)}"
                value = f"error:5.1.6:550 5.1.6 {user} left on {left}; write to {rng.choice(ROLES)}@{domain}"
            else:
                value = _local(user, rng)
            yield f"{user}@{domain}", value
        yield f"@{domain}", f"error:5.1.1:550 5.1.1 Unknown user ({domain}, ticket {rng.randrange(10**6)})"


def aliases(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Every other domain is an alias of a hosted one (``@alias  %1%3@hosted``), and two
    entries in five forward to a user at an alias domain (the address people were given)."""
    done = index = 0
    users: list[tuple[str, str]] = []  # (alias domain, a user of the domain it aliases)
    while done < entries:
        domain = domain_name(index, rng)
        index += 1
        size = min(entries - done, rng.randint(5, 40))
        used: set[str] = set()
        mine: list[str] = []
        for k in range(size - 1):
            if k == 0:
                yield _postmaster(domain, used)
                continue
            user = _user(rng, used)
            if users and rng.random() < 0.4:
                alias, other = rng.choice(users)
                yield f"{user}@{domain}", f"{other}@{alias}"
            else:
                yield f"{user}@{domain}", _local(user, rng)
                mine.append(user)
        yield f"@{domain}", CATCH_ALLS[index % len(CATCH_ALLS)]
        done += size
        if done < entries:
            alias = domain_name(index, rng)
            index += 1
            yield f"@{alias}", f"%1%3@{domain}"
            done += 1
            users += [(alias, user) for user in rng.sample(mine, min(3, len(mine)))]
            if len(users) > 3000:
                del users[:1500]


def templates(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """%N everywhere: catch-alls that hand every user on to a mail store (``@d  %1%3@store``)
    beside entries, some of them what the catch-all gives anyway; domain-wide wildcards
    (``++@d``, ``+*@d``); and domain aliases, of hosted domains and of other aliases."""
    done = index = 0
    hosted: list[str] = []
    while done < entries:
        domain = domain_name(index, rng)
        index += 1
        if hosted and rng.random() < 0.15:
            yield f"@{domain}", f"%1{rng.choice(('', '%3'))}@{rng.choice(hosted)}"
            hosted.append(domain)  # (an alias of an alias: chains)
            done += 1
            continue
        size = min(entries - done, rng.randint(4, 12))
        store = f"mail{rng.randrange(50)}.store.example"
        used: set[str] = set()
        lines = [_postmaster(domain, used)]
        if rng.random() < 0.5:
            lines += [(f"++@{domain}", f"%1@{store}"), (f"+*@{domain}", f"%1+%2@{store}")]
        while len(lines) < size - 1:
            user = _user(rng, used)
            k = rng.random()
            value = f"{user}%3@{store}" if k < 0.08 else _local(user, rng) if k < 0.6 else \
                f"{_local(user, rng)}%3@{store}"
            lines.append((f"{user}@{domain}", value))
        yield from lines[:size - 1]
        yield f"@{domain}", f"%1%3@{store}" if rng.random() < 0.7 else CATCH_ALLS[0]
        hosted.append(domain)
        if len(hosted) > 2000:
            del hosted[:1000]
        done += size


def relay(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """A gateway's table: every domain's catch-all hands the addresses it does not name on
    to the domain's own mailbox server (``@d  %1%3@mx.d``), and its users forward to
    addresses elsewhere (a VT207 finding for each domain)."""
    for domain, size in _sized_domains(entries, rng, lambda: rng.randint(3, 12)):
        used: set[str] = set()
        lines = [_postmaster(domain, used)]
        while len(lines) < size - 1:
            user = _user(rng, used)
            away = rng.choice(("gmail.com", "outlook.com", "corp.example"))
            lines.append((f"{user}@{domain}",
                          f"{_local(user, rng)}@{away}" if rng.random() < 0.6 else f"{user}@mx.{domain}"))
        yield from lines[:size - 1]
        yield f"@{domain}", f"%1%3@mx.{domain}"


def parked(entries: int, rng: random.Random) -> Iterator[tuple[str, str]]:
    """A registrar's or hoster's table: ten hosted domains of users, and every other entry
    a parked domain, a domain alias of one of them (``@parkedN  %1%3@hostedK``)."""
    hosted = [domain_name(index, rng) for index in range(10)]
    done = 0
    for domain in hosted:
        used: set[str] = set()
        lines = [_postmaster(domain, used)]
        while len(lines) < min(entries // 100, 2000) - 1:
            user = _user(rng, used)
            lines.append((f"{user}@{domain}", _local(user, rng)))
        lines.append((f"@{domain}", CATCH_ALLS[0]))
        lines = lines[:entries - done]
        yield from lines
        done += len(lines)
    index = len(hosted)
    while done < entries:
        yield f"@{domain_name(index, rng)}", f"%1%3@{rng.choice(hosted)}"
        index += 1
        done += 1


SHAPES = {
    "mixed": "the usual hosting mix, 40 entries a domain (the default)",
    "tiny": "many 2-5 entry domains with their own catch-all texts, an alias domain in eight",
    "huge": "ten domains of 100k users",
    "chains": "half the entries forward into other local domains, chains up to 8 deep",
    "plus": "+detail keys and user++/user+* wildcards for every mailbox",
    "texts": "a third of the entries reject with their own error: text",
    "aliases": "every other domain an alias (@a  %1%3@b), two forwards in five to users at alias domains",
    "open": "many 2-5 entry domains and no catch-all at all (a VT101 finding and fix for each domain)",
    "relay": "every catch-all hands unknown users to the domain's mailbox server (@d  %1%3@mx.d), "
             "users forward elsewhere",
    "templates": "%N everywhere: catch-alls to a mail store (@d  %1%3@store), ++@d/+*@d wildcards, "
                 "aliases of aliases",
    "parked": "ten hosted domains, every other entry a parked domain aliasing one (@p  %1%3@hosted)",
}
_SHAPED = {"tiny": tiny_domains, "huge": huge_domains, "chains": chains, "plus": plus_everywhere,
           "texts": error_texts, "aliases": aliases, "open": open_domains, "templates": templates,
           "relay": relay, "parked": parked}


def generate_shape(entries: int, seed: int, shape: str, out: TextIO = sys.stdout) -> None:
    """Write a table of exactly ``entries`` entries of the given shape to ``out``."""
    if shape == "mixed":
        generate(entries, seed, out)
        return
    rng = random.Random(seed)
    out.write(f"# virtusertable generated by benchmarks/generate.py: {entries} entries, seed {seed}, "
              f"shape {shape}\n")
    for key, value in _SHAPED[shape](entries, rng):
        out.write(f"{key}\t{value}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("entries", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="mixed",
                    help="; ".join(f"{k}: {v}" for k, v in SHAPES.items()).replace("%", "%%"))  # (argparse)
    ap.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = ap.parse_args(argv)
    if args.output is None:
        generate_shape(args.entries, args.seed, args.shape)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".part")
    with tmp.open("w", encoding="ascii", newline="\n") as f:
        generate_shape(args.entries, args.seed, args.shape, f)
    tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
