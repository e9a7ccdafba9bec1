"""The bot's HTTP routes, one module per surface: each gives the routes it serves, and
`bot.app` mounts them. Nothing here builds a part; every handler is given what it needs."""
