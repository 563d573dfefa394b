from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """Every 4xx and 5xx answer, from the function or the gateway: a machine code and a message; the failing fields on 422,
    the request id and a retry delay on 503.

        Attributes:
            error (str):
            message (str):
            fields (list[str] | Unset):
            request_id (str | Unset):
            retry_after (int | Unset):
    """

    error: str
    message: str
    fields: list[str] | Unset = UNSET
    request_id: str | Unset = UNSET
    retry_after: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error = self.error

        message = self.message

        fields: list[str] | Unset = UNSET
        if not isinstance(self.fields, Unset):
            fields = self.fields

        request_id = self.request_id

        retry_after = self.retry_after

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error": error,
                "message": message,
            }
        )
        if fields is not UNSET:
            field_dict["fields"] = fields
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if retry_after is not UNSET:
            field_dict["retry_after"] = retry_after

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        error = d.pop("error")

        message = d.pop("message")

        fields = cast(list[str], d.pop("fields", UNSET))

        request_id = d.pop("request_id", UNSET)

        retry_after = d.pop("retry_after", UNSET)

        error = cls(
            error=error,
            message=message,
            fields=fields,
            request_id=request_id,
            retry_after=retry_after,
        )

        error.additional_properties = d
        return error

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
