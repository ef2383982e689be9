"""Strategy management and champion/challenger (策略设计, 催收时间表, 策略效果评估)."""

#: what ``cuishou strategy tasks`` lists by default: every planned action that is not a call
#: (here, not in the planning service, so that ``--help`` loads no store or Polars)
TASK_ACTIONS: tuple[str, ...] = ("sms", "letter", "email", "wechat", "visit", "agency", "legal")
