"""The Slack front: Bolt listeners, Block Kit rendering and the Slack Web API adapter."""
