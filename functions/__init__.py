"""Lambda code. Each function package (api, ...) is packaged with `shared` at the archive root."""
