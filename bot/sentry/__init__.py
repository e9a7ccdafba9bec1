"""The Sentry front: verified webhooks in, read into alert signals."""
