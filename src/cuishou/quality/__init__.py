"""Quality assurance (质检): review of notes and transcripts with banned content."""
