"""The Discord face: slash commands, mentions answered in threads, streamed answers and 👍/👎 feedback.

One module per feature, each a cog with its commands: `ask` (/ask, mentions and threads), `search`,
`reindex`, `status` (/status and /help) and `votes` (the feedback buttons). Shared parts: `desk` (the
service, settings, feedback log, cooldown and guards every feature uses), `stream` (the answer stream and
the edit throttle), `replies` (where messages go), `messages`, `split` and `limits` (rendering within
Discord's limits), `client` (the bot, registering the features in `setup_hook`) and `run` (login and retry).
"""
