"""The action and callback ids our buttons and forms carry, and the listeners register."""

from __future__ import annotations

__all__ = [
    "ACK_ACTION",
    "ALERT_ACK_ACTION",
    "ALERT_OPEN_ACTION",
    "ALERT_SILENCE_ACTION",
    "DECLARE_CALLBACK",
    "GATE_RECHECK_ACTION",
    "PAGE_ACK_ACTION",
    "RESOLVE_ACTION",
    "RUN_ACTIONS",
    "STATUS_CANCEL_ACTION",
    "STATUS_PUBLISH_ACTION",
    "UPDATE_ACTION",
    "UPDATE_CALLBACK",
]

ACK_ACTION = "lucia_ack"
UPDATE_ACTION = "lucia_update"
RESOLVE_ACTION = "lucia_resolve"
DECLARE_CALLBACK = "lucia_declare_incident"
UPDATE_CALLBACK = "lucia_update_incident"

ALERT_OPEN_ACTION = "lucia_alert_open"
ALERT_ACK_ACTION = "lucia_alert_ack"
ALERT_SILENCE_ACTION = "lucia_alert_silence"

PAGE_ACK_ACTION = "lucia_page_ack"

# The launch gate's report: evaluate its phase again (the value is the phase's name).
GATE_RECHECK_ACTION = "lucia_gate_recheck"

RUN_ACTIONS = {
    "confirm": "lucia_run_confirm",
    "cancel": "lucia_run_cancel",
    "approve": "lucia_run_approve",
}

# A status page draft's preview: Publish or Cancel (the value is the draft's id).
STATUS_PUBLISH_ACTION = "lucia_status_publish"
STATUS_CANCEL_ACTION = "lucia_status_cancel"
