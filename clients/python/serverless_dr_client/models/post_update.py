from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PostUpdate")


@_attrs_define
class PostUpdate:
    """The version edited, and at least one of title, body, tags, premium (minProperties counts version).

    Attributes:
        version (int):
        title (str | Unset):
        body (str | Unset):
        tags (list[str] | Unset):
        premium (bool | Unset): the post has premium media (the site's /premium/<id>/) for readers who bought it
    """

    version: int
    title: str | Unset = UNSET
    body: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    premium: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        title = self.title

        body = self.body

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        premium = self.premium

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "version": version,
            }
        )
        if title is not UNSET:
            field_dict["title"] = title
        if body is not UNSET:
            field_dict["body"] = body
        if tags is not UNSET:
            field_dict["tags"] = tags
        if premium is not UNSET:
            field_dict["premium"] = premium

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        version = d.pop("version")

        title = d.pop("title", UNSET)

        body = d.pop("body", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))

        premium = d.pop("premium", UNSET)

        post_update = cls(
            version=version,
            title=title,
            body=body,
            tags=tags,
            premium=premium,
        )

        return post_update
