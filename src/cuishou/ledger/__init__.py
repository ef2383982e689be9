"""The account ledger (账务流水): every change to a balance is one row here."""
