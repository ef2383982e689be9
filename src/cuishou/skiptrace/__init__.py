"""Skip tracing (失联修复): the repair queue of unreachable cases and repair-vendor files."""
