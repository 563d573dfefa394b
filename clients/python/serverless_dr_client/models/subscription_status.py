from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ALREADY_SUBSCRIBED = "already_subscribed"
    SUBSCRIBED = "subscribed"

    def __str__(self) -> str:
        return str(self.value)
