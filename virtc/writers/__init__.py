"""Writers: turn a parsed table into the files sendmail reads."""
