"""Strategy management and champion/challenger (策略设计, 催收时间表, 策略效果评估)."""
