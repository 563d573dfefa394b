from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.page_view_type import PageViewType
from ..types import UNSET, Unset

T = TypeVar("T", bound="PageView")


@_attrs_define
class PageView:
    """
    Attributes:
        post_id (str): the post viewed
        type_ (PageViewType | Unset): the kind of event Default: PageViewType.VIEW.
        reader (str | Unset): a random id the browser keeps for itself (not personal data): counts distinct readers
    """

    post_id: str
    type_: PageViewType | Unset = PageViewType.VIEW
    reader: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        post_id = self.post_id

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = self.type_.value

        reader = self.reader

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "post_id": post_id,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if reader is not UNSET:
            field_dict["reader"] = reader

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        post_id = d.pop("post_id")

        _type_ = d.pop("type", UNSET)
        type_: PageViewType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = PageViewType(_type_)

        reader = d.pop("reader", UNSET)

        page_view = cls(
            post_id=post_id,
            type_=type_,
            reader=reader,
        )

        return page_view
