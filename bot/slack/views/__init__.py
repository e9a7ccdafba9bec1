"""Slack views: one module per surface, built with slack_sdk's Block Kit models."""
