"""The public status page: what is published about Lucia's components, and their uptime."""
