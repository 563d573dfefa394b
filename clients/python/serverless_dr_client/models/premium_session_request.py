from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PremiumSessionRequest")


@_attrs_define
class PremiumSessionRequest:
    """
    Attributes:
        item (str): the post whose premium media the reader asks for
    """

    item: str

    def to_dict(self) -> dict[str, Any]:
        item = self.item

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "item": item,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        item = d.pop("item")

        premium_session_request = cls(
            item=item,
        )

        return premium_session_request
