"""Thumbnail consumer: S3 notification (uploads/) -> SQS -> a JPEG thumbnail under thumbnails/."""
