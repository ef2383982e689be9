"""Repayment agreements (还款协议): quote, approval matrix, document, tracking."""
