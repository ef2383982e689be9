"""Message use cases (多渠道触达): queue, gate, send exactly once, take receipts.

- **Queue** (:func:`queue_day`, :func:`create_message`): render the active template with
  the case's variables, screen the rendered text again, ask the gate, and write one outbox
  row per case, template and day (the key makes a replay or a re-run a no-op).
- **Send** (:func:`send_due`): per recipient, the gate judges each message at send time
  (``compliance.service.gate``); the message is claimed (``sending``, committed), handed to
  its gateway, and its result recorded with a contact (``contact.service.log_contact``,
  outcome ``message_sent``). A run that dies after a claim leaves ``sending``; the next run
  marks it ``unknown`` and does not send it again (ADR 0031).
- **Receipts** (:func:`apply_receipts`): delivery reports and replies; a 退订/TD/STOP reply
  opens an ``opt_out`` hold through ``compliance.service.open_hold``.
"""

from cuishou.messaging.service.common import (
    CHANNELS_USER,
    active_templates,
    message_out,
    system_principal,
)
from cuishou.messaging.service.queue import (
    Created,
    QueueResult,
    create_message,
    queue_candidates,
    queue_day,
    render_batch,
)
from cuishou.messaging.service.reading import dead_letters, get_message, job_out, list_jobs
from cuishou.messaging.service.receipts import apply_receipts, import_receipts, parse_callback
from cuishou.messaging.service.send import SendOptions, send_due

__all__ = [
    "CHANNELS_USER",
    "Created",
    "QueueResult",
    "SendOptions",
    "active_templates",
    "apply_receipts",
    "create_message",
    "dead_letters",
    "get_message",
    "import_receipts",
    "job_out",
    "list_jobs",
    "message_out",
    "parse_callback",
    "queue_candidates",
    "queue_day",
    "render_batch",
    "send_due",
    "system_principal",
]
