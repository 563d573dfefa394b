"""Event-source filter patterns of the blog's consumers (pure data: the stack configures them on
the mappings, the two-region simulation applies them the way Lambda does)."""

from __future__ import annotations


def welcome_filter(region: str) -> dict:
    """New subscribers accepted by this region only: every replica's stream carries every write.

    DynamoDB event-source mappings filter on the `dynamodb` key only (Lambda developer guide,
    "Using event filtering with a DynamoDB event source"), so the INSERT-only rule lives in the
    handler; `welcome` absent keeps the consumer's own claim updates out.
    """
    return {
        "dynamodb": {
            "NewImage": {
                "pk": {"S": [{"prefix": "SUB#"}]},
                "origin_region": {"S": [region]},
                "welcome": [{"exists": False}],
            }
        }
    }


def post_pages_filter(*, views: bool = False) -> dict:
    """Every change to a post (created, edited, deleted, tombstoned), from any region: each region
    renders its own copy of every page. With `views`, every change to a post's view counters too
    (its stored answer carries them). Keys are in every record, a REMOVE's too."""
    prefixes = [{"prefix": "POST#"}, *([{"prefix": "VIEWS#"}] if views else [])]
    return {"dynamodb": {"Keys": {"pk": {"S": prefixes}}}}
