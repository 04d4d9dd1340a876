"""``evalkit view``: logs and running evals in a web browser (needs ``evalkit[view]``)."""
