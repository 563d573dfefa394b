from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.upload_request_content_type import UploadRequestContentType

T = TypeVar("T", bound="UploadRequest")


@_attrs_define
class UploadRequest:
    """The stack adds size.maximum from its maxUploadBytes to the document it imports (stack/api_contract.py).

    Attributes:
        content_type (UploadRequestContentType):
        size (int):
    """

    content_type: UploadRequestContentType
    size: int

    def to_dict(self) -> dict[str, Any]:
        content_type = self.content_type.value

        size = self.size

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "content_type": content_type,
                "size": size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        content_type = UploadRequestContentType(d.pop("content_type"))

        size = d.pop("size")

        upload_request = cls(
            content_type=content_type,
            size=size,
        )

        return upload_request
