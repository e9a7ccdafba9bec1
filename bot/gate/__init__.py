"""The launch gate: GO or NO-GO for a phase, from evidence the bot checked itself."""
