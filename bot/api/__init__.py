"""The HTTP API (FastAPI): `create_app` builds it; `app_from_env` is the uvicorn factory."""

from bot.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
