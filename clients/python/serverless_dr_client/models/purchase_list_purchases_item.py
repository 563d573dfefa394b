from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PurchaseListPurchasesItem")


@_attrs_define
class PurchaseListPurchasesItem:
    """
    Attributes:
        item (str): the id of the post (or its media) bought
        purchased_at (datetime.datetime):
    """

    item: str
    purchased_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        item = self.item

        purchased_at = self.purchased_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "item": item,
                "purchased_at": purchased_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        item = d.pop("item")

        purchased_at = datetime.datetime.fromisoformat(d.pop("purchased_at"))

        purchase_list_purchases_item = cls(
            item=item,
            purchased_at=purchased_at,
        )

        return purchase_list_purchases_item
