from enum import StrEnum


class PageViewType(StrEnum):
    VIEW = "view"

    def __str__(self) -> str:
        return str(self.value)
