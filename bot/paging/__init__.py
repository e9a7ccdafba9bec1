"""Paging: the launch-gate owners, escalation chains as rows, and deliveries."""
