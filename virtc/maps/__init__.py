"""Table -> map: the makemap encoding, virtc build, the makemap drop-in, map diffs."""
