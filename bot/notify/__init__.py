"""Ways to reach a person outside Slack: e-mail over SMTP and push through ntfy."""
