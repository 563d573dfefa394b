"""The regional blog API (Lambda proxy behind API Gateway REST)."""
