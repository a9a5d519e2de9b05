"""Why an LLM's answer was not used, and the extractive answer stands instead (the answer's mode says which)."""

from __future__ import annotations


class NoSupportedSentence(Exception):
    """Nothing the LLM wrote is supported by a given passage (and it did not decline)."""


class NothingRetrieved(Exception):
    """No passage matched: there is nothing to ask the LLM about."""


class ModelDeclined(Exception):
    """The LLM said its passages do not answer, and the extractive answer found the asked fact in them."""


def fallback_reason(exc: BaseException) -> str:
    """Why the LLM's answer was not used, for Answer.mode and the log."""
    if isinstance(exc, NoSupportedSentence):
        return "llm answer unsupported"
    if isinstance(exc, NothingRetrieved):
        return "nothing retrieved"
    if isinstance(exc, ModelDeclined):
        return "llm declined"
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"TimeoutError", "APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout"}:
        return "llm timeout"
    if names & {"APIConnectionError", "ConnectError", "ConnectionError", "RemoteProtocolError"}:
        return "llm unreachable"
    status = getattr(exc, "status_code", None)
    return f"llm error {status}" if status else "llm error"
