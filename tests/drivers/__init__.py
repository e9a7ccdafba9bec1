"""What tests drive the bot with: recorded payloads, the real services, signed Slack and
Sentry requests, the running bot, and ways to wait for what it does. Test modules import
from here (or from tests/fakes), never from each other or from a conftest."""
