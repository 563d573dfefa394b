from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PremiumSession")


@_attrs_define
class PremiumSession:
    """
    Attributes:
        item (str):
        expires_at (int): when the cookies set with this answer stop admitting the reader (epoch seconds)
    """

    item: str
    expires_at: int

    def to_dict(self) -> dict[str, Any]:
        item = self.item

        expires_at = self.expires_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "item": item,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        item = d.pop("item")

        expires_at = d.pop("expires_at")

        premium_session = cls(
            item=item,
            expires_at=expires_at,
        )

        return premium_session
