"""Git history of plans: commits with trailers, log, files at a revision, semantic diff."""
