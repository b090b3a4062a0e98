"""`virtc probe`: ask every MX host whether it rejects unknown recipients at RCPT."""

from __future__ import annotations

import json
from pathlib import Path

import click

VERDICTS = {True: "ACCEPTS unknown", False: "rejects unknown", None: "no verdict"}


@click.command("probe")
@click.argument("hosts", nargs=-1, metavar="[HOST[:PORT]]...")
@click.option("--table", "source", required=True,
              type=click.Path(dir_okay=False, readable=False, path_type=Path),
              help="The virtusertable: its domains are probed, with a recipient it never names.")
@click.option("--json", "as_json", is_flag=True, help="One JSON list: host, domain, recipient, "
              "accepts_unknown, reply, error.")
@click.option("--from", "mail_from", default="", metavar="ADDR",
              help="The MAIL FROM address (default: the null sender <>).")
@click.option("--helo", metavar="NAME", help="The EHLO name (default: this host's name).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10, show_default=True,
              help="Seconds to wait for each reply.")
def command(hosts: tuple[str, ...], source: Path, as_json: bool, mail_from: str, helo: str | None,
            timeout: float) -> None:
    """Check that every host rejects unknown recipients in every domain of the table.

    Per host one SMTP session: EHLO, then per domain MAIL FROM, RCPT TO a random local
    part the table does not name, RSET; QUIT. DATA is never sent. Without HOST, each
    domain's MX hosts from DNS (needs dnspython: pip install 'virtc[dns]').

    Exit status: 1 when any host accepts unknown recipients in any domain; else 2 when
    a host could not be asked (connection, refused MAIL FROM, a 4xx); 0 when every host
    rejects them everywhere. A new session every 8 domains (servers count rejections per
    session); each host gets at most TIMEOUT x (5 x sessions + 3 x domains) seconds.
    """
    import sys

    from virtc.deploy.probe import Target, check_address, mx_targets, probe
    from virtc.exports.checked import checked_table
    from virtc.formatters import readable, safe
    from virtc.lookup.table import LookupTable

    targets = [Target.parse(h) for h in hosts]
    check_address(mail_from, "--from")
    if helo is not None:
        check_address(helo, "--helo")
    # Probing reads the table only: one makemap would reject still has domains to check.
    lookup = LookupTable.from_table(checked_table(source, lint=False).table)
    domains = lookup.domains
    if not domains:
        from virtc.errors import VirtcError

        raise VirtcError(f"{source}: no domains to probe")
    plan = {t: domains for t in targets} if targets else mx_targets(domains)
    results = probe(plan, lambda key: key in lookup.values, mail_from=mail_from, timeout=timeout,
                    helo_name=helo)
    if as_json:
        # The table's text and the servers' replies are bytes: shown as UTF-8 when they are.
        rows = [{k: readable(v) if isinstance(v, str) else v for k, v in r.to_json().items()}
                for r in results]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in results:
            verdict = VERDICTS[r.accepts_unknown]
            detail = r.reply if r.error is None else f"{r.error}{': ' + r.reply if r.reply else ''}"
            # A server's reply is shown without its control characters (no terminal escapes).
            click.echo(safe(f"{r.host}\t{r.domain}\t{verdict}\t{detail}"))
    open_ = sorted({(r.host, r.domain) for r in results if r.accepts_unknown})
    unknown = [r for r in results if r.accepts_unknown is None]
    if open_:
        click.echo(safe(f"virtc: {len(open_)} host/domain pair{'s' if len(open_) != 1 else ''} accept "
                        f"unknown recipients: {', '.join(f'{d} on {h}' for h, d in open_)}"), err=True)
        sys.exit(1)
    if unknown:
        click.echo(f"virtc: {len(unknown)} of {len(results)} probes gave no verdict", err=True)
        sys.exit(2)
