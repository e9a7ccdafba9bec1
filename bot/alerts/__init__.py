"""Alerts: signals from monitoring (Sentry) deduped into alert groups, one per key."""
