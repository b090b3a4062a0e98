"""Coverage-guided fuzzing (atheris/libFuzzer) of virtc's input path.

Each input is a virtusertable source. It is parsed, checked as ``virtc build``
would check it (makemap's rejections plus lint), its keys and junk taken from the
input are resolved through the lookup engine (and through the exports' fast path,
which must end where the engine does), and it is formatted and exported. Any exception other than
VirtcError, the one user-facing error, is a crash that libFuzzer reports and
saves as ``crash-*``.

Run it (tests/safety/test_safety_fuzz_atheris.py runs a bounded version)::

    .venv/bin/python tests/fuzz/fuzz_virtc.py CORPUS_DIR fixtures tests/data/makemap -max_total_time=600
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["virtc"]):
    from virtc.errors import VirtcError
    from virtc.exports import postfix, qmail
    from virtc.layout import FormatRefused, format_table
    from virtc.lookup import LookupTable, local_domain_set, resolve
    from virtc.lookup.resolve import Final, quick_end
    from virtc.maps.check import diagnose
    from virtc.maps.records import BuildOptions
    from virtc.source.parse import parse_bytes

OPTIONS = (BuildOptions(), BuildOptions(foldcase=False, replace=True))


def test_one_input(data: bytes) -> None:
    try:
        table = parse_bytes(data, "fuzz")
        for opts in OPTIONS:
            diagnose(table, opts)
        lookup = LookupTable.from_table(table)
        addresses = [e.key_text for e in table.entries[:8]]
        addresses += [data[:64].decode("latin-1"), "user@example.com", "a+b@example.com"]
        domains = {a.rsplit("@", 1)[-1].lower() for a in addresses if "@" in a}
        local = local_domain_set(lookup.domains)
        for address in addresses:
            r = resolve(address, lookup, local)
            resolve(address, lookup, domains, virthost=True)
            quick = quick_end(address, lookup, local)  # the exports' fast path: resolve's end
            if quick is not None and quick != Final(r.kind, r.result, r.status, r.text):
                raise AssertionError(f"quick_end {quick} != resolve {r} for {address!r}")
        with contextlib.suppress(FormatRefused):
            format_table(table)  # (checks its own result: the same records)
        qmail.records(table)
        postfix._Exporter(lookup).render()
    except VirtcError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
