"""Postmortems: the incident's story from stored data, as Markdown or JSON."""
