from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PostCreate")


@_attrs_define
class PostCreate:
    """
    Attributes:
        title (str):
        body (str):
        tags (list[str] | Unset):
        premium (bool | Unset): the post has premium media (the site's /premium/<id>/) for readers who bought it
    """

    title: str
    body: str
    tags: list[str] | Unset = UNSET
    premium: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        body = self.body

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        premium = self.premium

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
                "body": body,
            }
        )
        if tags is not UNSET:
            field_dict["tags"] = tags
        if premium is not UNSET:
            field_dict["premium"] = premium

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        body = d.pop("body")

        tags = cast(list[str], d.pop("tags", UNSET))

        premium = d.pop("premium", UNSET)

        post_create = cls(
            title=title,
            body=body,
            tags=tags,
            premium=premium,
        )

        return post_create
