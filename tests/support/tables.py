"""Generated tables and addresses shared by the query and makemap tests."""

from __future__ import annotations

import random

LOCAL_DOMAINS = ("d1.test", "Sub.D2.test", "d3.test")


OTHER_DOMAINS = ("out.test", "far.example")


USERS = ("alice", "bob", "Carol", "dave", "e.f", "g-h", "i_j", "k9", "x")


DETAILS = ("", "x", "news", "Mixed", "a+b", "1")


VALUES = (
    # local names
    "alice", "bob-detail", "Mixed.Case", "joe+box", "%1", "%1%3", "%1-%2", "u-%2-%3", "%1+%2",
    # addresses: remote, and in local domains (re-resolved, may chain or loop)
    "someone@out.test", "%1@out.test", "%1%3@far.example", "x@out.test.", "<bob@out.test>",
    "alice@d1.test", "%1@d1.test", "Bob+Y@Sub.D2.test", "%1%3@d3.test", "nosuch@d3.test", "carol@d1.test",
    "%0", "dave@sub.d2.test",
    # errors
    "error:nouser 550 No such user", "error:5.1.1:550 User unknown", "ERROR:5.7.0:550 Address invalid",
    "error:nouser No code", "error:tempfail 451 Try later", "error:5.1.1:550 5.2.2 Full", "error:nouser",
    "error:5.1.1:550 %1 has gone", "error:bogus 550 x , y", "error:4.2.2:450 mailbox full",
    "error:5.1.1:User unknown", "error:a.b.c:550 odd", "Error : 5.1.1 : 550 spaced",
    # what sendmail misreads
    "a@out.test, b@out.test", "root root", "@out.test", "|/bin/prog", "/var/file", ":include:/x",
    "local:bob", '"quoted"', "bob@", "@", "!", "a@b@c", "prog:|x", "%1 %2",
)


def _case(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.6:
        return text
    if r < 0.8:
        return text.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def make_table(rng: random.Random, size: int = 120) -> str:
    """A virtusertable source (duplicates allowed: makemap keeps the first)."""
    lines = []
    for _ in range(size):
        dom = rng.choice(LOCAL_DOMAINS)
        user = rng.choice(USERS)
        detail = rng.choice(DETAILS[1:])
        shape = rng.choice(["{u}@{d}", "{u}@{d}", "{u}+{t}@{d}", "{u}++@{d}", "{u}+*@{d}",
                            "++@{d}", "+*@{d}", "@{d}"])
        key = _case(rng, shape.format(u=user, t=detail, d=dom))
        lines.append(f"{key}\t{rng.choice(VALUES)}\n")
    # Chains of every length around sendmail's recursion limit, and a two-step cycle.
    for n in range(14, 19):
        for i in range(n):
            lines.append(f"c{n}x{i}@d3.test c{n}x{i + 1}@d3.test\n")
        lines.append(f"c{n}x{n}@d3.test end{n}\n")
    lines += ["ping@d1.test pong@d1.test\n", "pong@d1.test ping@d1.test\n"]
    return "".join(lines)


def make_addresses(rng: random.Random, count: int, subdomains: bool = False) -> list[str]:
    doms = list(LOCAL_DOMAINS)
    if subdomains:
        doms += ["deep.d1.test", "x.Sub.D2.test", "notd1.test"]
    out = ["ping@d1.test", "+lead@d1.test", "++x@d1.test", "a++b@d3.test", "bob+@d1.test",
           "a%b@d1.test", "alice%d3.test@d1.test", "h!bob@d1.test", "x.y!bob@d3.test", "a%out.test@d1.test"]
    out += [f"c{n}x0@d3.test" for n in range(14, 19)]
    while len(out) < count:
        user = rng.choice((*USERS, "nobody", "zz"))
        r = rng.random()
        local = user if r < 0.4 else f"{user}+{rng.choice(DETAILS)}"
        dom = rng.choice(OTHER_DOMAINS) if rng.random() < 0.15 else rng.choice(doms)
        out.append(_case(rng, f"{local}@{dom}"))
    return out


# sendmail's -bt mailer for values it refuses only at RCPT time (checked in test_query_harness).


REFUSED = {"prog": "550 5.7.1 Cannot mail directly to programs",
           "*file*": "550 5.7.1 Cannot mail directly to files",
           "*include*": "550 5.7.1 Cannot mail directly to :include:s"}


PIECES = [
    "user@example.com", "User@Example.COM", "@example.com", "bob+*@example.com", "++@example.org",
    "#comment", "#", ";semi", ":colon", "a:b", "a::b", "x: y", " lead", "\tlead", "\r", "",
    "KEY", "key ", "key\t", "key\r", "k:", ":", "Ünï@example.com", "a b", "a  b  ", "a\tb\r",
    "error:nouser 550 No such user", "%1@other.example", "local", "a;b", "#x y", ";x y",
]


def generated(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.randint(1, 14)):
        r = rng.random()
        if r < 0.55:
            key, value = rng.choice(PIECES), rng.choice(PIECES)
            sep = rng.choice([" ", "\t", ":", "  ", " : ", "\t\t", ";"])
            lines.append(key + sep + value)
        elif r < 0.9:
            lines.append(rng.choice(PIECES))
        else:
            lines.append("k" * rng.choice([1021, 1022, 1023, 1030, 2050]) + " v")
    text = "\n".join(lines) + rng.choice(["\n", "", "\r\n"])
    return text.encode("latin-1") if rng.random() < 0.5 else text.encode("utf-8")
