"""Page-view consumer: Kinesis -> per-region counters in the global table."""
