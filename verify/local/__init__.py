"""The blog in two local regions on this machine (`make local`, `python -m verify.local`)."""
