"""The single-table layout of the global table, shared by the infrastructure and the handlers' docs.

Items: `POST#<id>`/`POST` (with `gsi1pk=POSTS`, `gsi1sk=<created_at>#<id>` for the newest-first
listing), `SUB#<email>`/`SUB`, `SUPPRESS#<email>`/`SUPPRESS`, `VIEWS#<post>`/`REGION#<region>`
(page-view counters sharded by region, summed on read). Every item carries `origin_region`,
`updated_at` and `version`.
"""

from components.global_table import SecondaryIndex

HASH_KEY = "pk"
RANGE_KEY = "sk"
ATTRIBUTES = {"pk": "S", "sk": "S", "gsi1pk": "S", "gsi1sk": "S"}
INDEXES = (SecondaryIndex(name="gsi1", hash_key="gsi1pk", range_key="gsi1sk"),)
TTL_ATTRIBUTE = "expires_at"
