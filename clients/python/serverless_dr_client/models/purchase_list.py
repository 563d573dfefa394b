from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.purchase_list_purchases_item import PurchaseListPurchasesItem


T = TypeVar("T", bound="PurchaseList")


@_attrs_define
class PurchaseList:
    """
    Attributes:
        reader (str):
        purchases (list[PurchaseListPurchasesItem]):
    """

    reader: str
    purchases: list[PurchaseListPurchasesItem]

    def to_dict(self) -> dict[str, Any]:
        reader = self.reader

        purchases = []
        for purchases_item_data in self.purchases:
            purchases_item = purchases_item_data.to_dict()
            purchases.append(purchases_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reader": reader,
                "purchases": purchases,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.purchase_list_purchases_item import PurchaseListPurchasesItem

        d = dict(src_dict)
        reader = d.pop("reader")

        purchases = []
        _purchases = d.pop("purchases")
        for purchases_item_data in _purchases:
            purchases_item = PurchaseListPurchasesItem.from_dict(purchases_item_data)

            purchases.append(purchases_item)

        purchase_list = cls(
            reader=reader,
            purchases=purchases,
        )

        return purchase_list
