from enum import StrEnum


class WriteStatusState(StrEnum):
    APPLIED = "applied"
    DEAD_LETTERED = "dead_lettered"
    PENDING = "pending"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return str(self.value)
