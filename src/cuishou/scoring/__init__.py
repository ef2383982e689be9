"""Risk grading and propensity scoring (风险分级与意向预测)."""
