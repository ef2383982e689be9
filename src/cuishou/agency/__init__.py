"""Agency placement (委外): placement batches, recall (退案), commission (佣金), league table."""
