"""Render's REST API v1 (the adapter behind bot.playbooks.ports.RenderAPI)."""
