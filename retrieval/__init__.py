"""Newsdesk engine: sources -> ingest -> index -> search -> answer."""
