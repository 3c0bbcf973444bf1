"""Amazon Bedrock ConverseStream as a `ChatModel`.

boto3 is blocking, so the call and the iteration over its event stream run in a
worker thread that hands each event to the event loop through an asyncio queue.
The endpoint is the SDK's: AWS_ENDPOINT_URL_BEDROCK_RUNTIME (or AWS_ENDPOINT_URL)
overrides it, as botocore defines; credentials come from the standard chain.
`timeout` is botocore's connect and read timeout (a read also bounds the wait for
each next event); `max_retries` are botocore's "standard" mode retries.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from ragops_core.answer_chain import ChatModelError
from ragops_core.domain import SearchHit
from ragops_core.ports import UsageRecorder
from ragops_core.prompting import DEFAULT_MAX_SOURCE_TOKENS, build_prompt

THROTTLING = {"ThrottlingException", "TooManyRequestsException", "throttlingException"}
SERVER = {
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelStreamErrorException",
    "ModelNotReadyException",
    "internalServerException",
    "serviceUnavailableException",
    "modelStreamErrorException",
}
AUTH = {"AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"}


def bedrock_error(exc: Exception, model_id: str) -> ChatModelError:
    if isinstance(
        exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError
    ):
        reason = "timeout"
    elif isinstance(
        exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionError
    ):
        reason = "connection"
    elif isinstance(exc, botocore.exceptions.NoCredentialsError):
        reason = "auth"
    elif isinstance(exc, botocore.exceptions.ClientError):  # EventStreamError is one too
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in THROTTLING or status == 429:
            reason = "rate_limited"
        elif code in AUTH or status in (401, 403):
            reason = "auth"
        elif code in SERVER or status >= 500:
            reason = "server_error"
        else:
            reason = "client_error"
    else:
        reason = "error"
    return ChatModelError(f"Bedrock {model_id}: {type(exc).__name__}: {exc}", reason=reason)


@dataclass(frozen=True)
class _End:
    error: Exception | None = None


class BedrockChatModel:
    def __init__(
        self,
        model_id: str,
        *,
        region: str | None = None,
        client: Any = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        temperature: float = 0.0,
        max_output_tokens: int = 800,
        max_source_tokens: int = DEFAULT_MAX_SOURCE_TOKENS,
        usage: UsageRecorder | None = None,
    ) -> None:
        self._model_id = model_id
        self._temperature = temperature
        self._max_output_tokens = max_output_tokens
        self._max_source_tokens = max_source_tokens
        self._usage = usage
        if client is None:
            region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if not region:
                raise ChatModelError(
                    "Bedrock needs a region: set it in the settings or AWS_REGION",
                    reason="client_error",
                )
            config = Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": max_retries + 1, "mode": "standard"},
            )
            # boto3 clients are thread-safe once built; building one is not cheap, so once.
            client = boto3.session.Session().client(
                "bedrock-runtime", region_name=region, config=config
            )
        self._client = client

    @property
    def name(self) -> str:
        return f"bedrock:{self._model_id}"

    def _request(self, query: str, hits: Sequence[SearchHit]) -> dict[str, Any]:
        prompt = build_prompt(query, hits, max_source_tokens=self._max_source_tokens)
        return {
            "modelId": self._model_id,
            "system": [{"text": prompt.system}],
            "messages": [{"role": "user", "content": [{"text": prompt.user}]}],
            "inferenceConfig": {
                "maxTokens": self._max_output_tokens,
                "temperature": self._temperature,
            },
        }

    async def stream_answer(self, query: str, hits: Sequence[SearchHit]) -> AsyncIterator[str]:
        request = self._request(query, hits)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[str | _End] = asyncio.Queue()
        stop = threading.Event()  # set when the consumer goes away: the thread stops reading

        def put(item: str | _End) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        def run() -> None:
            try:
                response = self._client.converse_stream(**request)
                stream = response["stream"]
                try:
                    for event in stream:
                        if stop.is_set():
                            break
                        self._handle(event, put, loop)
                finally:
                    stream.close()
            except Exception as exc:  # handed to the event loop, re-raised there
                if not stop.is_set():
                    put(_End(exc))
                return
            put(_End())

        worker = threading.Thread(target=run, name="bedrock-stream", daemon=True)
        worker.start()
        try:
            while True:
                item = await events.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise bedrock_error(item.error, self._model_id) from item.error
                    return
                yield item
        finally:
            # The thread ends at its next event or at botocore's read timeout; it is a
            # daemon, so an abandoned stream never holds up shutdown.
            stop.set()

    def _handle(self, event: dict[str, Any], put: Any, loop: asyncio.AbstractEventLoop) -> None:
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"].get("delta", {}).get("text")
            if text:
                put(text)
        elif "metadata" in event and self._usage is not None:
            usage = event["metadata"].get("usage", {})
            # On the loop's thread, like every other recorder call.
            loop.call_soon_threadsafe(
                self._usage.record,
                self._model_id,
                int(usage.get("inputTokens", 0)),
                int(usage.get("outputTokens", 0)),
            )
