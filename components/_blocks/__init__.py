"""Building blocks the components share and callers do not need: alarms, KMS keys, private
buckets, DNS-validated certificates. Not part of the public API; names may change."""
