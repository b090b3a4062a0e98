"""`virtc query`: show how sendmail resolves addresses through a table (virtc.lookup)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from virtc.errors import VirtcError

if TYPE_CHECKING:
    from virtc.formatters.text import Painter
    from virtc.lookup import LookupTable, Resolution


@click.command("query")
@click.argument("addresses", metavar="ADDRESS...", nargs=-1)
@click.option("--table", "table_path", type=click.Path(readable=False, path_type=Path),
              default=Path("virtusertable"),
              show_default=True, help="The virtusertable source, or a built .db map.")
@click.option("--local-domains", type=click.Path(readable=False, path_type=Path),
              help="local-host-names style file of the local domains (default: the table's domains).")
@click.option("--virthost", is_flag=True,
              help="The domains are VIRTUSER_DOMAINs: unmatched addresses are relayed, not local.")
@click.option("--entire-domain", is_flag=True,
              help="FEATURE(virtuser_entire_domain): subdomains are looked up too, with their own "
                   "keys (sendmail applies it to VIRTUSER_DOMAINs: combine with --virthost).")
@click.option("--sendmail-cf", metavar="FILE",
              help="The server's sendmail.cf: local domains, VirtHost, virtuser_entire_domain "
                   "(default: a sendmail.cf beside the table).")
@click.option("--users", multiple=True, metavar="FILE", help="Local users, passwd format.")
@click.option("--aliases", multiple=True, metavar="FILE", help="aliases(5) file.")
@click.option("--mailboxes", multiple=True, metavar="FILE", help="Mailbox names, one per line.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per address.")
@click.option("--reverse", "reverse_target", metavar="USER",
              help="Instead: every key whose addresses end at the local user or address USER.")
def command(addresses: tuple[str, ...], table_path: Path, local_domains: Path | None,
            virthost: bool, entire_domain: bool, sendmail_cf: str | None, users: tuple[str, ...],
            aliases: tuple[str, ...], mailboxes: tuple[str, ...], as_json: bool,
            reverse_target: str | None) -> None:
    """Show how sendmail resolves each ADDRESS ('-' reads addresses from stdin, one a line).

    Lists the keys sendmail tries in order, the one that matched and the outcome:
    local user, remote address, error reply, unmatched, not-local or loop.
    """
    from virtc.deploy.deployment import load_deployment
    from virtc.lookup import load_lookup_table, local_domain_set, resolve

    if bool(addresses) == bool(reverse_target):
        raise click.UsageError("give ADDRESS... or --reverse USER")
    table = load_lookup_table(table_path)
    for line in table.skipped:
        click.echo(f"virtc: note: {table_path}:{line}: makemap rejects this line, so it is not in "
                   "the map: skipped (see `virtc lint`)", err=True)
    dep = load_deployment(str(table_path), sendmail_cf=sendmail_cf,
                          local_domains=str(local_domains) if local_domains is not None else None,
                          users=users, aliases=aliases, mailboxes=mailboxes)
    for note in dep.notes:
        click.echo(f"virtc: note: {note}", err=True)
    listed = dep.local_domains
    if dep.cf is not None:
        entire_domain = entire_domain or dep.cf.entire_domain
        # (resolve() takes one kind for all domains: VirtHost when the cf has no other)
        virthost = virthost or bool(dep.virthost_only and not (dep.local_domains or set()) - dep.virthost_only
                                    - dep.host_names)
    # Once for all addresses, as resolve() would per address: the table's domains are a
    # pass over the whole map.
    domains = local_domain_set(table.domains if listed is None else listed)
    if reverse_target is not None:
        _reverse(table, reverse_target.strip(), domains, virthost, entire_domain, as_json)
        return
    wanted = _addresses(addresses)
    own = dep.cf.dj if dep.cf is not None and dep.cf.dj else None
    if own is None and any(s in a.lower() for a in wanted for s in ("localhost", "[127.0.0.1]")):
        own = _fqdn()  # (a resolver call: only when an address needs it)
    if own is not None:
        domains = domains | {own}  # $j is always in class w
    results = [resolve(a, table, domains, entire_domain=entire_domain, virthost=virthost, own_name=own)
               for a in wanted]
    exists = _user_check(dep.mailboxes)
    if as_json:
        from virtc.formatters import ITEMS, readable_json, write_json

        def doc(r: Resolution) -> dict[str, object]:
            out = readable_json(r.to_json())
            if dep.mailboxes is not None:
                out["user_exists"] = exists(r.result) if r.kind == "local" and r.result else None
            return out

        write_json(ITEMS, map(doc, results), sys.stdout, ensure_ascii=False)
        return
    from virtc.formatters import write_lines
    from virtc.formatters.text import painter

    paint = painter(sys.stdout)

    def lines() -> Iterator[str]:
        for r in results:
            yield from _show(r, table, paint)
            if dep.mailboxes is not None and r.kind == "local" and r.result:
                if exists(r.result):
                    yield "  (the user exists: the mailbox lists name it)"
                else:
                    yield paint("  (no such user in the mailbox lists: it cannot be delivered)", "red")

    write_lines(sys.stdout, lines())  # (not rich's print a line: a third of a millisecond each)


def _fqdn() -> str | None:
    """This host's canonical name, as sendmail finds ``$j`` without a ``Dj`` line."""
    import socket

    name = socket.getfqdn()
    return name.lower() if "." in name else None


def _user_check(names: frozenset[str] | None) -> Callable[[str], bool]:
    from virtc.deploy.mailboxes import exists

    return lambda user: names is not None and exists(user, names)


def _reverse(table: LookupTable, target: str, domains: frozenset[str], virthost: bool,
             entire_domain: bool, as_json: bool) -> None:
    from virtc.lookup.overview import reverse

    if not target:
        raise VirtcError("--reverse: empty user")
    origins = reverse(table, target, domains, virthost=virthost, entire_domain=entire_domain)
    if as_json:
        json.dump([o.to_json() for o in origins], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    for o in origins:
        entry = table.entries.get(o.key)
        where = f"  (line {entry.line})" if entry is not None else ""
        via = f"  via {' -> '.join(o.chain)}" if len(o.chain) > 1 else ""
        key = o.key if o.address == o.key else f"{o.key}  e.g. {o.address}"
        click.echo(f"{key}{where}{via}")
    click.echo(f"{len(origins)} key{'s' if len(origins) != 1 else ''} end at {target}", err=True)


def _addresses(args: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if arg == "-":
            # Bytes as typed (UTF-8 or Latin-1), compared with the table's bytes.
            out.extend(line.decode("latin-1").strip() for line in sys.stdin.buffer if line.strip())
        elif not arg.strip():
            raise VirtcError("empty address")
        else:
            out.append(os.fsencode(arg).decode("latin-1").strip())
    return out


def _esc(text: str) -> str:
    """Table or address text for the terminal: readable whatever its bytes."""
    from virtc.formatters import readable

    return readable(text)


def _show(r: Resolution, table: LookupTable, paint: Painter) -> list[str]:
    """The lines that show how ``r`` resolved."""
    out = [paint(_esc(r.address), "bold")]
    for n, step in enumerate(r.steps):
        if n:
            out.append(f"  then {paint(_esc(step.address), 'bold')}")
        for i, lk in enumerate(step.lookups):
            if lk.value is None:
                out.append("    " + paint(f"{_esc(lk.key)}  -", "dim"))
            elif step.key is not None and i == len(step.lookups) - 1:  # a hit ends the step
                sub = step.substituted if step.substituted != lk.value else None
                shown = _esc(lk.value) + (f" => {_esc(sub)}" if sub is not None else "")
                entry = table.entries.get(step.key)
                where = f", line {entry.line}" if entry is not None else ""
                out.append(f"    {_esc(lk.key)}  {shown} {paint(f'(matched{where})', 'green')}")
            else:  # '@' or '!': read as not found
                out.append(f"    {_esc(lk.key)}  {_esc(lk.value)} {paint('(not found)', 'dim')}")
    out.append(f"  {paint(*_outcome(r))}")
    return out


def _outcome(r: Resolution) -> tuple[str, str]:
    """The last line's text and style."""
    if r.kind == "local":
        return f"local user {_esc(r.result or '')}", "bold"
    if r.kind == "remote":
        return f"remote address {_esc(r.result or '')}", "bold"
    if r.kind == "error":
        return f"error ({_esc(r.status or '')}): {_esc(r.text or '')}", "bold red"
    if r.kind == "unmatched":
        return f"unmatched: no key matched; sendmail sends it to {_esc(r.result or '')}", "bold yellow"
    if r.kind == "not-local":
        return "not a local domain: the table is not consulted", "bold"
    path = " -> ".join(r.cycle or r.chain)
    return f"loop: {_esc(path)} ({_esc(r.text or '')})", "bold red"
