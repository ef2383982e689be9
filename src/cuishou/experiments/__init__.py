"""Champion/challenger experiments (策略效果评估)."""
