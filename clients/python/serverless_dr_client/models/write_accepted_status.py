from enum import StrEnum


class WriteAcceptedStatus(StrEnum):
    ACCEPTED = "accepted"

    def __str__(self) -> str:
        return str(self.value)
