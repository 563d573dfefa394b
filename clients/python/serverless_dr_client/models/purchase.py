from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Purchase")


@_attrs_define
class Purchase:
    """
    Attributes:
        reader (str):
        item (str): the id of the post (or its media) bought
        purchased_at (datetime.datetime):
    """

    reader: str
    item: str
    purchased_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        reader = self.reader

        item = self.item

        purchased_at = self.purchased_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reader": reader,
                "item": item,
                "purchased_at": purchased_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reader = d.pop("reader")

        item = d.pop("item")

        purchased_at = datetime.datetime.fromisoformat(d.pop("purchased_at"))

        purchase = cls(
            reader=reader,
            item=item,
            purchased_at=purchased_at,
        )

        return purchase
