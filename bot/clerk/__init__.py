"""Clerk: the admin view's session tokens, checked without a network call."""
