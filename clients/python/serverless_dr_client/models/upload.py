from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.upload_fields import UploadFields


T = TypeVar("T", bound="Upload")


@_attrs_define
class Upload:
    """A presigned POST for one object: send fields and the file as multipart/form-data to url before expires_in seconds.

    Attributes:
        url (str):
        fields (UploadFields):
        key (str):
        thumbnail (str):
        max_bytes (int):
        expires_in (int):
    """

    url: str
    fields: UploadFields
    key: str
    thumbnail: str
    max_bytes: int
    expires_in: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        fields = self.fields.to_dict()

        key = self.key

        thumbnail = self.thumbnail

        max_bytes = self.max_bytes

        expires_in = self.expires_in

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "url": url,
                "fields": fields,
                "key": key,
                "thumbnail": thumbnail,
                "max_bytes": max_bytes,
                "expires_in": expires_in,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.upload_fields import UploadFields

        d = dict(src_dict)
        url = d.pop("url")

        fields = UploadFields.from_dict(d.pop("fields"))

        key = d.pop("key")

        thumbnail = d.pop("thumbnail")

        max_bytes = d.pop("max_bytes")

        expires_in = d.pop("expires_in")

        upload = cls(
            url=url,
            fields=fields,
            key=key,
            thumbnail=thumbnail,
            max_bytes=max_bytes,
            expires_in=expires_in,
        )

        upload.additional_properties = d
        return upload

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
