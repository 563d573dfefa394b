"""Code every function shares: item stamping, write intents, AWS clients."""
