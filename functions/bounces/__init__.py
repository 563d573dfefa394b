"""Bounce and complaint consumer: SES feedback (SNS -> SQS) -> suppression items."""
