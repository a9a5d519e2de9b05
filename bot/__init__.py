"""Newsdesk faces: HTTP API, Discord bot, CLI and rendering."""
