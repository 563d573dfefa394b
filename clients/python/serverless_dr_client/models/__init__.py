"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .accepted_status import AcceptedStatus
from .error import Error
from .health import Health
from .health_status import HealthStatus
from .page_view import PageView
from .page_view_type import PageViewType
from .post import Post
from .post_create import PostCreate
from .post_list import PostList
from .post_update import PostUpdate
from .premium_session import PremiumSession
from .premium_session_request import PremiumSessionRequest
from .purchase import Purchase
from .purchase_create import PurchaseCreate
from .purchase_list import PurchaseList
from .purchase_list_purchases_item import PurchaseListPurchasesItem
from .subscriber import Subscriber
from .subscription import Subscription
from .subscription_status import SubscriptionStatus
from .thumbnail import Thumbnail
from .upload import Upload
from .upload_fields import UploadFields
from .upload_request import UploadRequest
from .upload_request_content_type import UploadRequestContentType
from .write_accepted import WriteAccepted
from .write_accepted_status import WriteAcceptedStatus
from .write_status import WriteStatus
from .write_status_result import WriteStatusResult
from .write_status_state import WriteStatusState

__all__ = (
    "Accepted",
    "AcceptedStatus",
    "Error",
    "Health",
    "HealthStatus",
    "PageView",
    "PageViewType",
    "Post",
    "PostCreate",
    "PostList",
    "PostUpdate",
    "PremiumSession",
    "PremiumSessionRequest",
    "Purchase",
    "PurchaseCreate",
    "PurchaseList",
    "PurchaseListPurchasesItem",
    "Subscriber",
    "Subscription",
    "SubscriptionStatus",
    "Thumbnail",
    "Upload",
    "UploadFields",
    "UploadRequest",
    "UploadRequestContentType",
    "WriteAccepted",
    "WriteAcceptedStatus",
    "WriteStatus",
    "WriteStatusResult",
    "WriteStatusState",
)
