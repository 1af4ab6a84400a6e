"""Fault injection: a loopback server that answers platform URLs with the ways platforms fail,
a downloader middleware (test-only) that points a real crawl at it, and the fault catalogue."""
