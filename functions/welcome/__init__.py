"""Welcome-email consumer: DynamoDB stream (new subscribers of this region) -> SES."""
