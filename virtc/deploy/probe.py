"""``virtc probe``: does every MX host reject unknown recipients at RCPT?

For each host, one SMTP session (reconnecting if the server hangs up): EHLO (HELO if
refused), then per domain ``MAIL FROM``, ``RCPT TO`` a random local part the table does
not name, and ``RSET``; ``QUIT`` at the end. DATA is never sent, so no mail is ever
delivered. A 2xx reply means the host accepts unknown recipients in that domain (the
backup-MX hole); 5xx means it rejects them; 4xx proves neither (the command exits 2 for
it, as for a host it cannot reach: a check that cannot conclude must not pass).

A domain that is not ASCII is asked only with ``SMTPUTF8`` (RFC 6531), when the server
offers it and the table's bytes are UTF-8; otherwise it gets no verdict. Sending the bytes
anyway would ask about another domain: sendmail without SMTPUTF8 strips the eighth bit
(``café.test`` arrives as ``cafi.test``) and may then answer 250 for it.

Bounded in count and time: one RCPT per host and domain, at most :data:`PER_SESSION`
domains per session (then QUIT and a new one), at most one new session per domain when
the server hangs up, every reply waited for at most ``timeout`` seconds, and
each host given at most :func:`host_budget` seconds in all (a server that keeps sending
continuation lines is cut off there).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from virtc.errors import VirtcError
from virtc.model import fold

DEFAULT_PORT = 25
LOCAL_PREFIX = "virtc-probe-"
PER_SESSION = 8
"""Domains asked in one session. Servers count rejected recipients per session: Postfix
delays every reply by smtpd_error_sleep_time (1 s) after smtpd_soft_error_limit (10) of
them, three replies per domain, and hangs up after smtpd_hard_error_limit (20). A new
session every 8 domains stays under both."""


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


def host_budget(timeout: float, domains: int) -> float:
    """The most time one host gets: per session connect, greeting, EHLO (and HELO) and QUIT,
    and per domain MAIL, RCPT and RSET, each up to ``timeout``."""
    sessions = max(1, -(-domains // PER_SESSION))
    return timeout * (5 * sessions + 3 * domains)


def check_address(text: str, what: str) -> str:
    """``--from``/``--helo`` go into SMTP commands: ASCII without spaces, controls or <>."""
    if any(c.isspace() or ord(c) < 0x20 or c in "<>\x7f" for c in text):
        raise VirtcError(f"{what} {text!r}: no spaces, control characters or <> allowed")
    if not text.isascii():
        raise VirtcError(f"{what} {text!r}: only ASCII can be sent without SMTPUTF8")
    return text


def unknown_local_part(domain: str, named: Callable[[str], bool]) -> str:
    """A random local part that no key of the table names in ``domain``."""
    while True:
        local = LOCAL_PREFIX + secrets.token_hex(6)
        if not named(fold(f"{local}@{domain}")):
            return local


def _wire_address(recipient: str) -> str:
    """The recipient as it goes into ``RCPT TO:<...>``, or :class:`_NotAsked` why it cannot.

    ``recipient`` holds the table's bytes (Latin-1 decoded); non-ASCII ones must be UTF-8.
    """
    if any(c.isspace() or ord(c) < 0x20 or c in "<>\x7f" for c in recipient):
        raise _NotAsked("the domain has a space, a control character or <>: "
                        "it cannot be written in RCPT TO")
    if recipient.isascii():
        return recipient
    try:
        return recipient.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        raise _NotAsked("the domain is neither ASCII nor UTF-8: no SMTP client can name it") from None


class _NotAsked(Exception):
    """A domain this probe cannot ask about (its spelling), whatever the server."""


def _reply(code: int, message: bytes) -> str:
    text = message.decode("latin-1").replace("\r", "").replace("\n", " ")
    return f"{code} {text}".strip()


class _Session:
    """One SMTP connection to a target, reopened when the server hangs up."""

    def __init__(self, target: Target, mail_from: str, timeout: float, helo_name: str | None,
                 deadline: float) -> None:
        self.target, self.mail_from, self.timeout, self.helo_name = target, mail_from, timeout, helo_name
        self.deadline = deadline
        self.smtp: smtplib.SMTP | None = None
        self.expired = False
        self.unreachable = False
        """The host gave no answer at all (connection, timeout): its other domains are not tried."""
        self.asked = 0
        """Domains asked in the current session (see :data:`PER_SESSION`)."""
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        """The host's time is up: cut the connection, whatever the session is waiting for."""
        with self._lock:
            self.expired = True
            sock = self.smtp.sock if self.smtp is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _open(self) -> smtplib.SMTP:
        if self.expired:
            raise socket.timeout("timed out")
        smtp = smtplib.SMTP(timeout=min(self.timeout, max(0.01, self.deadline - time.monotonic())),
                            local_hostname=self.helo_name)
        with self._lock:
            self.smtp = smtp  # from now on the watchdog can cut it
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
        try:
            address = _wire_address(recipient)
        except _NotAsked as exc:
            return Result(self.target.given, domain, recipient, None, "", str(exc))
        if self.smtp is not None and self.asked >= PER_SESSION:
            self._quit()
        # A session kept from the last domain may have been closed by the server since:
        # then one new session. A fresh one that fails is the answer.
        reused = self.smtp is not None
        try:
            return self._ask(domain, recipient, address)
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            if not reused or self.expired:
                return self._failed(domain, recipient, exc)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            return self._failed(domain, recipient, exc)
        try:
            return self._ask(domain, recipient, address)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            return self._failed(domain, recipient, exc)

    def _failed(self, domain: str, recipient: str, exc: BaseException) -> Result:
        self.unreachable = True
        error = "timed out (the host's time is up)" if self.expired else _connection_error(exc)
        return Result(self.target.given, domain, recipient, None, "", error)

    def _drop(self) -> None:
        with self._lock:
            smtp, self.smtp = self.smtp, None
        if smtp is not None:
            smtp.close()

    def _reset(self) -> None:
        """RSET after the answer; a server that hangs up instead costs the next domain a new
        session, not this domain its answer."""
        assert self.smtp is not None
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _ask(self, domain: str, recipient: str, address: str) -> Result:
        if self.smtp is None:
            self.smtp = self._open()
            self.asked = 0
        utf8 = not address.isascii()
        if utf8 and not self.smtp.has_extn("smtputf8"):
            return Result(self.target.given, domain, recipient, None, "",
                          "a non-ASCII domain, and the server does not offer SMTPUTF8: not asked")
        # docmd, not mail()/rcpt(): their address parser would rewrite a domain with "(...)".
        code, message = self.smtp.docmd("mail", f"FROM:<{self.mail_from}>{' SMTPUTF8' if utf8 else ''}")
        if not 200 <= code < 300:
            self._reset()
            return Result(self.target.given, domain, recipient, None, _reply(code, message),
                          "MAIL FROM was refused: no verdict (try --from ADDR)")
        self.smtp.command_encoding = "utf-8" if utf8 else "ascii"  # rset() puts back ASCII
        code, message = self.smtp.docmd("rcpt", f"TO:<{address}>")
        self.asked += 1
        self._reset()
        verdict = True if 200 <= code < 300 else False if 500 <= code < 600 else None
        error = (None if verdict is not None else "a temporary reply proves neither" if 400 <= code < 500
                 else "not an SMTP reply")
        return Result(self.target.given, domain, recipient, verdict, _reply(code, message), error)

    def close(self) -> None:
        self._timer.cancel()
        self._quit()

    def _quit(self) -> None:
        """QUIT and drop the connection (the host's watchdog keeps running)."""
        smtp = self.smtp
        if smtp is not None:
            try:
                if not self.expired:
                    smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            finally:
                self._drop()


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
          mail_from: str = "", timeout: float = 10, helo_name: str | None = None,
          budget: float | None = None) -> list[Result]:
    """Probe each target's domains (a domain gets the same random recipient on every host).

    Each host gets at most ``budget`` seconds in all (default :func:`host_budget`).
    """
    check_address(mail_from, "MAIL FROM address")
    if helo_name is not None:
        check_address(helo_name, "EHLO name")
    recipients: dict[str, str] = {}
    results: list[Result] = []
    for target, domains in plan.items():
        allowed = budget if budget is not None else host_budget(timeout, len(domains))
        session = _Session(target, mail_from, timeout, helo_name, time.monotonic() + allowed)
        try:
            for n, domain in enumerate(domains):
                if domain not in recipients:
                    recipients[domain] = f"{unknown_local_part(domain, named)}@{domain}"
                result = session.ask(domain, recipients[domain])
                results.append(result)
                if session.unreachable:
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
