from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PurchaseCreate")


@_attrs_define
class PurchaseCreate:
    """
    Attributes:
        reader (str): the reader's email address
        item (str): the id of the post (or its media) bought
    """

    reader: str
    item: str

    def to_dict(self) -> dict[str, Any]:
        reader = self.reader

        item = self.item

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reader": reader,
                "item": item,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reader = d.pop("reader")

        item = d.pop("item")

        purchase_create = cls(
            reader=reader,
            item=item,
        )

        return purchase_create
