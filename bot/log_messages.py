"""Every log message the bot writes, in one place (the JSON log's `message` field).

Messages are event names; the details go in `extra`. Nothing here ever carries a token,
a secret or a request body.
"""

from __future__ import annotations

__all__ = [
    "ADMIN_REQUEST_REFUSED",
    "ADMIN_VIEW_OFF",
    "ALERT_DELIVERY_FAILED",
    "ALERT_DELIVERY_IGNORED",
    "ALERT_DELIVERY_UNREADABLE",
    "ALERT_NOTICE_DEFERRED",
    "ALERT_OPENED_INCIDENT",
    "BACKGROUND_TASKS_CANCELLED",
    "BACKGROUND_TASK_FAILED",
    "CHANNEL_CREATE_FAILED",
    "CHAT_CALL_FAILED",
    "COMMAND_FAILED_DATABASE_UNREACHABLE",
    "CONFIG_FILE_MISSING",
    "EPHEMERAL_FELL_BACK_TO_DM",
    "EVENT_DEDUPE_UNAVAILABLE",
    "GATE_ANNOUNCE_FAILED",
    "GATE_CHECK_FAILED",
    "GATE_VERDICT_CHANGED",
    "INCIDENT_CHANGED",
    "INCIDENT_OPENED",
    "REPEATS_WITHOUT_GROUP",
    "REPEAT_COUNTER_UNAVAILABLE",
    "SENTRY_WEBHOOK_REFUSED",
    "SERVING",
    "SHELL_COMMAND_FAILED",
    "SLACK_EVENT_RETRY_DROPPED",
    "SLACK_LISTENER_FAILED",
    "SLACK_NOT_CONFIGURED",
    "SLACK_REQUEST_NOT_AUTHORIZED",
    "SLACK_UNREACHABLE_AT_START",
    "WAKEUPS_DATABASE_UNREACHABLE",
]

# Process
SERVING = "serving"  # port, Slack mode, database kind, whether Redis is used
CONFIG_FILE_MISSING = "config_file_missing"  # LUCIA_CONFIG names no file yet: empty tables
SLACK_NOT_CONFIGURED = "slack_not_configured"  # serve without Slack: only health routes
SLACK_UNREACHABLE_AT_START = "slack_unreachable_at_start"  # auth.test failed: /readyz says so
SLACK_REQUEST_NOT_AUTHORIZED = "slack_request_not_authorized"  # token refused or Slack unreachable
BACKGROUND_TASK_FAILED = "background_task_failed"  # work after an ack raised
BACKGROUND_TASKS_CANCELLED = "background_tasks_cancelled"  # shutdown limit reached
WAKEUPS_DATABASE_UNREACHABLE = "wakeups_database_unreachable"  # next due time unknown: retried

# Incidents
INCIDENT_OPENED = "incident_opened"
INCIDENT_CHANGED = "incident_changed"
CHANNEL_CREATE_FAILED = "channel_create_failed"
CHAT_CALL_FAILED = "chat_call_failed"  # stored, but Slack wasn't told (see the warning)

# Slack front
SLACK_LISTENER_FAILED = "slack_listener_failed"
SLACK_EVENT_RETRY_DROPPED = "slack_event_retry_dropped"
EVENT_DEDUPE_UNAVAILABLE = "event_dedupe_unavailable"  # processed anyway
EPHEMERAL_FELL_BACK_TO_DM = "ephemeral_fell_back_to_dm"
COMMAND_FAILED_DATABASE_UNREACHABLE = "command_failed_database_unreachable"

# Alerts
ALERT_DELIVERY_UNREADABLE = "alert_delivery_unreadable"  # kept in the inbox with the reason
ALERT_DELIVERY_FAILED = "alert_delivery_failed"  # kept, marked failed with the reason
ALERT_DELIVERY_IGNORED = "alert_delivery_ignored"  # a kind or action with nothing to alert on
ALERT_NOTICE_DEFERRED = "alert_notice_deferred"  # Slack refused or rate-limited: sent later
ALERT_OPENED_INCIDENT = "alert_opened_incident"  # a routing rule opened an incident
REPEAT_COUNTER_UNAVAILABLE = "repeat_counter_unavailable"  # Redis down: the inbox takes all
REPEATS_WITHOUT_GROUP = "repeats_without_group"  # Redis counted a key with no group: restored
SENTRY_WEBHOOK_REFUSED = "sentry_webhook_refused"  # signature, timestamp, size or JSON
LAUNCH_GATE_LOADED = "launch_gate_loaded"  # roles/references changed in lucia.yaml, loaded
PAGE_SENT = "page_sent"  # every channel tried; status sent or failed
PAGE_DELIVERY_FAILED = "page_delivery_failed"  # one channel (e-mail, push, Slack) failed
PLAYBOOK_RUN_FAILED = "playbook_run_failed"  # a bug stopped a run: its steps say how far
PLAYBOOK_SAID = "playbook_said"  # a run's message, when there is no Slack channel to say it in
PERSON_NAME_LOOKUP_FAILED = "person_name_lookup_failed"  # a bug naming someone: the id is shown
SLACK_PROFILE_UNREADABLE = "slack_profile_unreadable"  # users.info failed: the id is shown
PLAYBOOK_RUN_INTERRUPTED = "playbook_run_interrupted"  # its bot stopped renewing the lease
PLAYBOOK_LEASE_NOT_RENEWED = "playbook_lease_not_renewed"  # database unreachable: retried
PLAYBOOK_RESULT_NOT_STORED = "playbook_result_not_stored"  # a sweep had already ended the run
PLAYBOOK_SWEEP_DEFERRED = "playbook_sweep_deferred"  # database unreachable: swept a lease later
SHELL_COMMAND_FAILED = "shell_command_failed"  # a command typed in `lucia-bot shell` raised
PAGE_LEASE_NOT_RENEWED = "page_lease_not_renewed"  # database unreachable: tried again in the lease
PAGE_LEASE_LOST = "page_lease_lost"  # another sender took the page over: it finishes it
PAGE_ATTEMPT_UNANSWERED = "page_attempt_unanswered"  # its sender stopped mid-send: unknown
PAGE_RESULT_NOT_STORED = "page_result_not_stored"  # database unreachable: retried in the lease
ALERT_NOTICE_NOT_RECORDED = "alert_notice_not_recorded"  # Slack showed it; the database was away
ALERT_NOTICE_LEASE_NOT_RENEWED = "alert_notice_lease_not_renewed"  # database unreachable
GATE_CHECK_FAILED = "gate_check_failed"  # a bug in a check: its item is unknown
GATE_VERDICT_CHANGED = "gate_verdict_changed"
GATE_ANNOUNCE_FAILED = "gate_announce_failed"  # stored; the channel missed it
ADMIN_REQUEST_REFUSED = "admin_request_refused"  # 401/403 on /admin/api: reason, never the token
ADMIN_VIEW_OFF = "admin_view_off"  # CLERK_* unset: /admin says how to turn it on
