"""The local chat front: a terminal where `/lucia …` runs against the same core."""
