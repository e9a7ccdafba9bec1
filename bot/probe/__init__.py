"""An anonymous look at a URL (the adapter behind bot.gate.ports.UrlProbe)."""
