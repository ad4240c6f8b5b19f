"""Infrastructure helpers with no chat rules: rate limits, outage detection, micro-batching."""
