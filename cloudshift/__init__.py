"""cloudshift's analyser and rewriter: discovery -> prefilter -> parse -> resolve -> detect -> plan -> rewrite -> report."""
