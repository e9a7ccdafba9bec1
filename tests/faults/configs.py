"""lucia.yaml files the fault tests share."""

from __future__ import annotations

__all__ = ["ANA_REACH", "BOB_REACH", "FAST_ALERTS", "PAGING_YAML"]

# Alert messages gather for half a second and are updated at most twice a second, so a
# test sees the final state soon after its flood.
FAST_ALERTS = "alerts:\n  group_wait: 0.5\n  update_interval: 0.5\n"

# (e-mail, push topic, Slack id) of the two people the paging tests page.
BOB_REACH = ("bob@lucia.example", "bob-93", "U01BOBBY00")
ANA_REACH = ("ana@lucia.example", "ana-7f", "U01ALICE00")
PAGING_YAML = (
    FAST_ALERTS
    + """
paging: {throttle: 0}
owners:
  owner: {name: Ana Lucia, slack: U01ALICE00, email: ana@lucia.example, push_topic: ana-7f}
  infra: {name: Bob Infra, slack: U01BOBBY00, email: bob@lucia.example, push_topic: bob-93}
routing:
  - match: {level: [fatal]}
    action: incident
    severity: sev1
    page: [infra]
escalation:
  sev1:
    close_with_fallback: false
    steps:
      - {roles: [owner], wait: 1}
"""
)
