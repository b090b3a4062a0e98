"""One module per ``virtc`` subcommand; each is a thin click shell over the library."""
