"""Message templates (短信/信函模板): screened when saved, activated only when clean."""
