"""Write-retry consumer: applies write intents the API could not apply (SNS -> SQS -> here)."""
