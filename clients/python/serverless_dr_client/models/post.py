from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Post")


@_attrs_define
class Post:
    """
    Attributes:
        id (str):
        title (str):
        body (str):
        created_at (str):
        version (int):
        tags (list[str] | Unset):
        updated_at (str | Unset):
        origin_region (str | Unset):
        views (int | Unset):
        premium (bool | Unset): the post has premium media for readers who bought it
    """

    id: str
    title: str
    body: str
    created_at: str
    version: int
    tags: list[str] | Unset = UNSET
    updated_at: str | Unset = UNSET
    origin_region: str | Unset = UNSET
    views: int | Unset = UNSET
    premium: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        title = self.title

        body = self.body

        created_at = self.created_at

        version = self.version

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        updated_at = self.updated_at

        origin_region = self.origin_region

        views = self.views

        premium = self.premium

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "title": title,
                "body": body,
                "created_at": created_at,
                "version": version,
            }
        )
        if tags is not UNSET:
            field_dict["tags"] = tags
        if updated_at is not UNSET:
            field_dict["updated_at"] = updated_at
        if origin_region is not UNSET:
            field_dict["origin_region"] = origin_region
        if views is not UNSET:
            field_dict["views"] = views
        if premium is not UNSET:
            field_dict["premium"] = premium

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        title = d.pop("title")

        body = d.pop("body")

        created_at = d.pop("created_at")

        version = d.pop("version")

        tags = cast(list[str], d.pop("tags", UNSET))

        updated_at = d.pop("updated_at", UNSET)

        origin_region = d.pop("origin_region", UNSET)

        views = d.pop("views", UNSET)

        premium = d.pop("premium", UNSET)

        post = cls(
            id=id,
            title=title,
            body=body,
            created_at=created_at,
            version=version,
            tags=tags,
            updated_at=updated_at,
            origin_region=origin_region,
            views=views,
            premium=premium,
        )

        post.additional_properties = d
        return post

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
