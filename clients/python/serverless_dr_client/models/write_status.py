from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.write_status_state import WriteStatusState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.write_status_result import WriteStatusResult


T = TypeVar("T", bound="WriteStatus")


@_attrs_define
class WriteStatus:
    """The fate of a write: pending (not yet applied, or applied and still replicating), applied (status and result as the
    write's own answer), rejected (status and reason), dead_lettered.

        Attributes:
            write_id (str):
            state (WriteStatusState):
            status (int | Unset):
            decided_at (Any | Unset): when it was decided (ISO 8601), null if unknown
            result (WriteStatusResult | Unset):
            reason (str | Unset):
            applied_in (Any | Unset): the region that applied a write still replicating, null if unknown
            replicating (bool | Unset):
    """

    write_id: str
    state: WriteStatusState
    status: int | Unset = UNSET
    decided_at: Any | Unset = UNSET
    result: WriteStatusResult | Unset = UNSET
    reason: str | Unset = UNSET
    applied_in: Any | Unset = UNSET
    replicating: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        write_id = self.write_id

        state = self.state.value

        status = self.status

        decided_at = self.decided_at

        result: dict[str, Any] | Unset = UNSET
        if not isinstance(self.result, Unset):
            result = self.result.to_dict()

        reason = self.reason

        applied_in = self.applied_in

        replicating = self.replicating

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "write_id": write_id,
                "state": state,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status
        if decided_at is not UNSET:
            field_dict["decided_at"] = decided_at
        if result is not UNSET:
            field_dict["result"] = result
        if reason is not UNSET:
            field_dict["reason"] = reason
        if applied_in is not UNSET:
            field_dict["applied_in"] = applied_in
        if replicating is not UNSET:
            field_dict["replicating"] = replicating

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.write_status_result import WriteStatusResult

        d = dict(src_dict)
        write_id = d.pop("write_id")

        state = WriteStatusState(d.pop("state"))

        status = d.pop("status", UNSET)

        decided_at = d.pop("decided_at", UNSET)

        _result = d.pop("result", UNSET)
        result: WriteStatusResult | Unset
        if isinstance(_result, Unset):
            result = UNSET
        else:
            result = WriteStatusResult.from_dict(_result)

        reason = d.pop("reason", UNSET)

        applied_in = d.pop("applied_in", UNSET)

        replicating = d.pop("replicating", UNSET)

        write_status = cls(
            write_id=write_id,
            state=state,
            status=status,
            decided_at=decided_at,
            result=result,
            reason=reason,
            applied_in=applied_in,
            replicating=replicating,
        )

        write_status.additional_properties = d
        return write_status

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
