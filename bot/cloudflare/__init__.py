"""Cloudflare's API: purging the status page's URLs from the cache on every publish."""
