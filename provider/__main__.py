"""Hosts the serverless-dr components for other Pulumi languages (see serverless_dr.crosslang)."""

from pulumi.provider.experimental import component_provider_host
from serverless_dr import __version__
from serverless_dr.crosslang import COMPONENTS

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name="serverless-dr", version=__version__)
