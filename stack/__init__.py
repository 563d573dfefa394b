"""Composition of the serverless-dr program: typed config, providers, components per region."""
