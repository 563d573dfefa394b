from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.write_accepted_status import WriteAcceptedStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="WriteAccepted")


@_attrs_define
class WriteAccepted:
    """A write the region could not decide at once: it is queued, and GET location tells its fate. id: the new post's id,
    on a create.

        Attributes:
            status (WriteAcceptedStatus):
            write_id (str):
            location (str):
            id (str | Unset):
    """

    status: WriteAcceptedStatus
    write_id: str
    location: str
    id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        write_id = self.write_id

        location = self.location

        id = self.id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "write_id": write_id,
                "location": location,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = WriteAcceptedStatus(d.pop("status"))

        write_id = d.pop("write_id")

        location = d.pop("location")

        id = d.pop("id", UNSET)

        write_accepted = cls(
            status=status,
            write_id=write_id,
            location=location,
            id=id,
        )

        write_accepted.additional_properties = d
        return write_accepted

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
