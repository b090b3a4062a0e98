"""``virtc probe``: does every MX host reject unknown recipients at RCPT?

For each host, one SMTP session (reconnecting if the server hangs up): EHLO (HELO if
refused), then per domain ``MAIL FROM``, ``RCPT TO`` a random local part the table does
not name, and ``RSET``; ``QUIT`` at the end. DATA is never sent, so no mail is ever
delivered. A 2xx reply means the host accepts unknown recipients in that domain (the
backup-MX hole); 5xx means it rejects them; 4xx proves neither. Every command waits at
most ``timeout`` seconds; a session sends one RCPT per domain.
"""

from __future__ import annotations

import re
import secrets
import smtplib
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from virtc.errors import VirtcError
from virtc.model import fold

DEFAULT_PORT = 25
LOCAL_PREFIX = "virtc-probe-"


@dataclass(frozen=True)
class Target:
    """A host to probe, as given (``mx1.example.com``, ``192.0.2.1:2525``, ``[::1]:2525``)."""

    given: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Target:
        m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:\s\[\]]+)(?::(\d+))?|([0-9A-Fa-f:]+)", text)
        if m is None or not text:
            raise VirtcError(f"{text!r}: not HOST, HOST:PORT or [IPV6]:PORT")
        host = m[1] or m[3] or m[5]
        port = int(m[2] or m[4] or DEFAULT_PORT)
        if not 0 < port < 65536:
            raise VirtcError(f"{text!r}: port {port} is out of range")
        return cls(text, host, port)


@dataclass(frozen=True)
class Result:
    host: str
    """The host as given (port included) or the MX name found in DNS."""
    domain: str
    recipient: str
    accepts_unknown: bool | None
    """True: RCPT got 2xx; False: 5xx; None: 4xx or no answer (see ``error``)."""
    reply: str
    """The server's reply line to RCPT TO (or to the command that failed)."""
    error: str | None = None
    """Why there is no verdict: a connection problem, a refused MAIL FROM, a 4xx."""

    def to_json(self) -> dict[str, object]:
        return {"host": self.host, "domain": self.domain, "recipient": self.recipient,
                "accepts_unknown": self.accepts_unknown, "reply": self.reply, "error": self.error}


def unknown_local_part(domain: str, named: Callable[[str], bool]) -> str:
    """A random local part that no key of the table names in ``domain``."""
    while True:
        local = LOCAL_PREFIX + secrets.token_hex(6)
        if not named(fold(f"{local}@{domain}")):
            return local


def _reply(code: int, message: bytes) -> str:
    text = message.decode("latin-1").replace("\r", "").replace("\n", " ")
    return f"{code} {text}".strip()


class _Session:
    """One SMTP connection to a target, reopened when the server hangs up."""

    def __init__(self, target: Target, mail_from: str, timeout: float, helo_name: str | None) -> None:
        self.target, self.mail_from, self.timeout, self.helo_name = target, mail_from, timeout, helo_name
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(timeout=self.timeout, local_hostname=self.helo_name)
        code, message = smtp.connect(self.target.host, self.target.port)
        if code != 220:
            smtp.close()
            raise smtplib.SMTPConnectError(code, message)
        code, message = smtp.ehlo()
        if not 200 <= code < 300:
            code, message = smtp.helo()
            if not 200 <= code < 300:
                smtp.close()
                raise smtplib.SMTPHeloError(code, message)
        return smtp

    def ask(self, domain: str, recipient: str) -> Result:
        # A session kept from the last domain may have been closed by the server since:
        # then one new session. A fresh one that fails is the answer.
        reused = self.smtp is not None
        try:
            return self._ask(domain, recipient)
        except smtplib.SMTPServerDisconnected as exc:
            self.smtp = None
            if not reused:
                return Result(self.target.given, domain, recipient, None, "", _connection_error(exc))
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            return Result(self.target.given, domain, recipient, None, "", _connection_error(exc))
        try:
            return self._ask(domain, recipient)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            return Result(self.target.given, domain, recipient, None, "", _connection_error(exc))

    def _ask(self, domain: str, recipient: str) -> Result:
        if self.smtp is None:
            self.smtp = self._open()
        code, message = self.smtp.mail(self.mail_from)
        if not 200 <= code < 300:
            self.smtp.rset()
            return Result(self.target.given, domain, recipient, None, _reply(code, message),
                          "MAIL FROM was refused: no verdict (try --from ADDR)")
        code, message = self.smtp.rcpt(recipient)
        self.smtp.rset()
        verdict = True if 200 <= code < 300 else False if 500 <= code < 600 else None
        error = None if verdict is not None else "a temporary reply proves neither"
        return Result(self.target.given, domain, recipient, verdict, _reply(code, message), error)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _connection_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc):
        return "timed out"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        return f"{exc.smtp_code} {text.decode('latin-1') if isinstance(text, bytes) else text}"
    if isinstance(exc, socket.timeout):
        return "timed out"
    return str(exc) or type(exc).__name__


def probe(plan: Mapping[Target, Sequence[str]], named: Callable[[str], bool], *,
          mail_from: str = "", timeout: float = 10, helo_name: str | None = None) -> list[Result]:
    """Probe each target's domains (a domain gets the same random recipient on every host)."""
    recipients: dict[str, str] = {}
    results: list[Result] = []
    for target, domains in plan.items():
        session = _Session(target, mail_from, timeout, helo_name)
        try:
            for n, domain in enumerate(domains):
                if domain not in recipients:
                    recipients[domain] = f"{unknown_local_part(domain, named)}@{domain}"
                result = session.ask(domain, recipients[domain])
                results.append(result)
                if result.error is not None and not result.reply:
                    # No answer at all: say so for the host's other domains without waiting again.
                    results += [Result(target.given, d, recipients.setdefault(
                                    d, f"{unknown_local_part(d, named)}@{d}"), None, "", result.error)
                                for d in domains[n + 1:]]
                    break
        finally:
            session.close()
    return results


def mx_targets(domains: Iterable[str]) -> dict[Target, list[str]]:
    """The MX hosts of each domain from DNS (its A/AAAA host when it has no MX, RFC 5321 5.1)."""
    try:
        import dns.exception
        import dns.resolver
    except ImportError:
        raise VirtcError("finding the MX hosts needs dnspython: pip install 'virtc[dns]' "
                         "(or name the hosts: virtc probe HOST...)") from None
    found: dict[Target, list[str]] = {}
    for domain in domains:
        try:
            answer = dns.resolver.resolve(domain, "MX")
            hosts = [str(r.exchange).rstrip(".") for r in sorted(answer, key=lambda r: r.preference)]
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            hosts = [domain]
        except dns.exception.DNSException as exc:
            raise VirtcError(f"{domain}: MX lookup failed: {exc}") from None
        for host in hosts:
            if host and host != ".":  # a null MX (RFC 7505): the domain takes no mail
                found.setdefault(Target(host, host, DEFAULT_PORT), []).append(domain)
    return found
