"""The OpenAI and Bedrock adapters through the official SDKs, against local fakes
that speak the real wire protocols (tests/integration/llm_fakes.py). Nothing leaves
127.0.0.1, and every wait is bounded: SDK timeouts are sub-second and each test's
own waits run under `asyncio.timeout`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import aclosing

import boto3
import openai
import pytest
from botocore.eventstream import EventStreamBuffer

from ragops_core.adapters.chat_model.bedrock import BedrockChatModel
from ragops_core.adapters.chat_model.extractive import ExtractiveChatModel
from ragops_core.adapters.chat_model.openai import OpenAIChatModel
from ragops_core.adapters.embedder.openai import OpenAIEmbedder
from ragops_core.answer_chain import (
    INTERRUPTED_MARKER,
    AllModelsFailedError,
    ChatModelError,
    Delta,
    Done,
    FallbackChatModel,
)
from ragops_core.domain import SearchHit, StoredChunk
from ragops_core.ports import ChatModel
from ragops_core.pricing import cost_usd
from ragops_core.prompting import SYSTEM_PROMPT, build_prompt, trim_sources
from tests.support.llm_fakes import (
    DEFAULT_PIECES,
    FakeLLMServer,
    event_frame,
    exception_frame,
    fake_vector,
)

BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
BEDROCK_PIECES = ("Bedrock: DEA form 225 ", "[1].")
QUERY = "Which DEA form do Principal Investigators sign?"
WAIT = 10.0  # the longest any test waits for an answer; real waits are well under 2 s


def hit(
    filename: str, text: str, *, pages: tuple[tuple[int, int], ...] = ((0, 2),), index: int = 0
) -> SearchHit:
    chunk = StoredChunk(
        tenant="t",
        document_id=f"doc-{filename}",
        filename=filename,
        index=index,
        text=text,
        page_breaks=pages,
    )
    return SearchHit(chunk=chunk, score=0.9)


HITS = [
    hit(
        "handbook.pdf",
        "Principal Investigators sign DEA form 225 to register. The form is renewed yearly.",
    ),
    hit(
        "policy.pdf",
        "Controlled substances are stored in a locked cabinet.",
        pages=((0, 4), (5, 5)),
    ),
]


class Usage:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def record(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.calls.append((model, prompt_tokens, completion_tokens))


class Fallbacks:
    def __init__(self) -> None:
        self.fallbacks: list[tuple[str, str, str]] = []
        self.interruptions: list[tuple[str, str]] = []

    def fallback(self, from_model: str, to_model: str, reason: str) -> None:
        self.fallbacks.append((from_model, to_model, reason))

    def interrupted(self, model: str, reason: str) -> None:
        self.interruptions.append((model, reason))


@pytest.fixture
def openai_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        # The adapters are built without key or URL: the SDK must read these itself.
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url + "/v1")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield fake


@pytest.fixture
def bedrock_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(pieces=BEDROCK_PIECES) as fake:
        for name, value in {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": fake.url,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDTEST",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_CONFIG_FILE": "/dev/null",  # no developer profile may leak in
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield fake


def openai_chat(
    usage: Usage | None = None, *, timeout: float = 2.0, max_retries: int = 0
) -> OpenAIChatModel:
    return OpenAIChatModel("gpt-4o-mini", timeout=timeout, max_retries=max_retries, usage=usage)


def bedrock_chat(usage: Usage | None = None, *, timeout: float = 2.0) -> BedrockChatModel:
    return BedrockChatModel(BEDROCK_MODEL, timeout=timeout, max_retries=0, usage=usage)


async def pieces_of(model: ChatModel, hits: Sequence[SearchHit] = HITS) -> list[str]:
    async with asyncio.timeout(WAIT):
        return [p async for p in model.stream_answer(QUERY, hits)]


async def events_of(model: FallbackChatModel, hits: Sequence[SearchHit] = HITS) -> tuple[str, Done]:
    text, done = "", None
    async with asyncio.timeout(WAIT):
        async for event in model.stream_events(QUERY, hits):
            if isinstance(event, Delta):
                assert done is None, "no text after Done"
                text += event.text
            else:
                done = event
    assert done is not None
    return text, done


# --- OpenAI -----------------------------------------------------------------------------


async def test_openai_answer_streams_in_pieces_and_records_usage(
    openai_fake: FakeLLMServer,
) -> None:
    usage = Usage()
    pieces = await pieces_of(openai_chat(usage))
    assert pieces == list(DEFAULT_PIECES)
    (request,) = openai_fake.requests_to("/chat/completions")
    assert request.body["stream"] is True and request.body["stream_options"] == {
        "include_usage": True
    }
    assert request.headers["authorization"] == "Bearer sk-test"
    ((model, prompt_tokens, completion_tokens),) = usage.calls
    assert (model, completion_tokens) == ("gpt-4o-mini", 3) and prompt_tokens > 20
    cost = cost_usd(model, prompt_tokens, completion_tokens)
    assert cost is not None and 0 < cost < 0.001


async def test_prompt_holds_the_numbered_sources_and_the_rules(openai_fake: FakeLLMServer) -> None:
    await pieces_of(openai_chat())
    system, user = openai_fake.requests_to("/chat/completions")[0].body["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert "cite" in SYSTEM_PROMPT.lower() and "do not contain" in SYSTEM_PROMPT
    content = user["content"]
    assert "[1] handbook.pdf, page 2:\nPrincipal Investigators sign DEA form 225" in content
    assert "[2] policy.pdf, page 4-5:\nControlled substances" in content
    assert content.endswith(f"Question: {QUERY}")


def test_long_sources_are_trimmed_to_the_budget_without_renumbering() -> None:
    long = hit("long.pdf", " ".join(f"w{i}" for i in range(5000)))
    short = hit("short.pdf", "one two three")
    sources = trim_sources([short, long, short], max_tokens=400)  # 300 words
    assert [s.number for s in sources] == [1, 2]  # the third did not fit
    assert sources[1].trimmed and len(sources[1].text.split()) == 300 - 3 + 1  # + the trim mark
    assert "[2] long.pdf" in build_prompt("q", [short, long], max_source_tokens=400).user


async def test_openai_chat_retries_a_429_then_answers(openai_fake: FakeLLMServer) -> None:
    openai_fake.fail("429")
    assert await pieces_of(openai_chat(max_retries=1)) == list(DEFAULT_PIECES)
    assert len(openai_fake.requests_to("/chat/completions")) == 2


# --- embeddings --------------------------------------------------------------------------


async def test_embeddings_are_batched_and_returned_in_order(openai_fake: FakeLLMServer) -> None:
    usage = Usage()
    embedder = OpenAIEmbedder(
        "text-embedding-3-small", dimensions=8, batch_size=3, timeout=2, max_retries=0, usage=usage
    )
    texts = [f"text number {i}" for i in range(7)] + [""]
    async with asyncio.timeout(WAIT):
        windows = await embedder.embed_documents(texts)
        query = await embedder.embed_query("a question")
    requests = openai_fake.requests_to("/embeddings")
    assert [len(r.body["input"]) for r in requests] == [3, 3, 2, 1]
    assert all(
        r.body["dimensions"] == 8 and r.body["model"] == "text-embedding-3-small" for r in requests
    )
    assert len(windows) == len(texts) and all(len(w) == 1 for w in windows)
    for text, (vector,) in zip(texts, windows, strict=True):
        assert vector == pytest.approx(fake_vector(text or " ", 8), rel=1e-6)
    assert query == pytest.approx(fake_vector("a question", 8), rel=1e-6)
    assert (embedder.dimensions, embedder.max_tokens) == (8, 8191)
    assert len(usage.calls) == 4


async def test_embeddings_retry_a_500_with_backoff(openai_fake: FakeLLMServer) -> None:
    openai_fake.fail("500")
    embedder = OpenAIEmbedder("text-embedding-3-small", timeout=2, max_retries=2)
    async with asyncio.timeout(WAIT):
        vector = await embedder.embed_query("x")
    assert len(vector) == 1536 and len(openai_fake.requests_to("/embeddings")) == 2


async def test_embeddings_time_out_with_a_clear_error(openai_fake: FakeLLMServer) -> None:
    openai_fake.fail("hang")
    embedder = OpenAIEmbedder("text-embedding-3-small", timeout=0.3, max_retries=0)
    with pytest.raises(ChatModelError) as error:
        async with asyncio.timeout(WAIT):
            await embedder.embed_query("x")
    assert error.value.reason == "timeout"


# --- Bedrock -----------------------------------------------------------------------------


async def test_bedrock_streams_through_boto3_and_records_usage(bedrock_fake: FakeLLMServer) -> None:
    usage = Usage()
    assert await pieces_of(bedrock_chat(usage)) == list(BEDROCK_PIECES)
    (request,) = bedrock_fake.requests_to("/converse-stream")
    assert request.path == f"/model/{BEDROCK_MODEL}/converse-stream"
    assert request.body["system"] == [{"text": SYSTEM_PROMPT}]
    assert "[1] handbook.pdf, page 2:" in request.body["messages"][0]["content"][0]["text"]
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    assert usage.calls == [(BEDROCK_MODEL, 42, 2)]


async def test_bedrock_error_mid_stream_surfaces_after_the_text(
    bedrock_fake: FakeLLMServer,
) -> None:
    bedrock_fake.fail("midstream")
    got: list[str] = []
    with pytest.raises(ChatModelError) as error:
        async with asyncio.timeout(WAIT):
            async for piece in bedrock_chat().stream_answer(QUERY, HITS):
                got.append(piece)
    assert got == [BEDROCK_PIECES[0]] and error.value.reason == "server_error"


def test_bedrock_needs_a_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ChatModelError, match="region"):
        BedrockChatModel(BEDROCK_MODEL)


# --- the fallback chain ----------------------------------------------------------------


def chain(
    recorder: Fallbacks,
    *,
    openai_timeout: float = 2.0,
    first_delta_timeout: float | None = None,
    openai_retries: int = 0,
) -> FallbackChatModel:
    return FallbackChatModel(
        openai_chat(timeout=openai_timeout, max_retries=openai_retries),
        bedrock_chat(),
        ExtractiveChatModel(),
        recorder=recorder,
        first_delta_timeout=first_delta_timeout,
    )


async def test_openai_500s_fall_back_to_bedrock(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail(always="500")
    recorder = Fallbacks()
    text, done = await events_of(chain(recorder, openai_retries=1))
    assert text == "".join(BEDROCK_PIECES)
    assert done.model == f"bedrock:{BEDROCK_MODEL}" and not done.interrupted
    assert recorder.fallbacks == [
        ("openai:gpt-4o-mini", f"bedrock:{BEDROCK_MODEL}", "server_error")
    ]
    assert len(openai_fake.requests_to("/chat/completions")) == 2  # the SDK retried once first


async def test_openai_timeout_falls_back_quickly(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail(always="hang")
    recorder = Fallbacks()
    started = time.monotonic()
    text, done = await events_of(chain(recorder, openai_timeout=0.3))
    assert time.monotonic() - started < 3
    assert done.model == f"bedrock:{BEDROCK_MODEL}" and text == "".join(BEDROCK_PIECES)
    assert recorder.fallbacks[0][2] == "timeout"


async def test_first_delta_timeout_bounds_a_slow_model(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail(always="hang")
    recorder = Fallbacks()
    started = time.monotonic()
    _, done = await events_of(chain(recorder, openai_timeout=8.0, first_delta_timeout=0.3))
    assert time.monotonic() - started < 3
    assert done.model.startswith("bedrock:") and recorder.fallbacks[0][2] == "timeout"


async def test_both_down_gives_the_extractive_answer(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail(always="500")
    bedrock_fake.fail(always="429")
    recorder = Fallbacks()
    text, done = await events_of(chain(recorder))
    assert done.model == "extractive"
    assert text == "".join(await pieces_of(ExtractiveChatModel()))
    assert "DEA form 225" in text and "[1]" in text
    assert recorder.fallbacks == [
        ("openai:gpt-4o-mini", f"bedrock:{BEDROCK_MODEL}", "server_error"),
        (f"bedrock:{BEDROCK_MODEL}", "extractive", "rate_limited"),
    ]
    assert [f.reason for f in done.fallbacks] == ["server_error", "rate_limited"]


async def test_mid_stream_failure_ends_with_a_marker_not_another_model(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail("midstream")
    recorder = Fallbacks()
    text, done = await events_of(chain(recorder))
    assert text == DEFAULT_PIECES[0] + INTERRUPTED_MARKER
    assert done.model == "openai:gpt-4o-mini" and done.interrupted
    assert (
        recorder.interruptions == [("openai:gpt-4o-mini", "server_error")]
        and recorder.fallbacks == []
    )
    assert bedrock_fake.requests == []


async def test_concurrent_calls_each_learn_their_own_model(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail("500", "500")  # two of the six calls fall back; which ones is up to timing
    model = chain(Fallbacks())
    results = await asyncio.gather(*(events_of(model) for _ in range(6)))
    expected = {
        "openai:gpt-4o-mini": "".join(DEFAULT_PIECES),
        f"bedrock:{BEDROCK_MODEL}": "".join(BEDROCK_PIECES),
    }
    assert all(text == expected[done.model] for text, done in results)
    assert (
        sorted(done.model.split(":")[0] for _, done in results) == ["bedrock"] * 2 + ["openai"] * 4
    )


async def test_all_models_failing_raises(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    openai_fake.fail(always="500")
    bedrock_fake.fail(always="500")
    model = FallbackChatModel(openai_chat(), bedrock_chat())
    with pytest.raises(AllModelsFailedError) as error:
        await events_of(model)
    assert error.value.reason == "server_error"


# --- the fakes themselves ----------------------------------------------------------------


def test_event_stream_frames_decode_with_botocore() -> None:

    buffer = EventStreamBuffer()  # checks both CRC32s and the lengths
    buffer.add_data(
        event_frame("contentBlockDelta", {"delta": {"text": "hé"}}) + exception_frame("x", "y")
    )
    first, second = list(buffer)
    assert first.headers[":event-type"] == "contentBlockDelta"
    assert first.payload == b'{"delta": {"text": "h\\u00e9"}}'
    assert second.headers[":message-type"] == "exception"


async def test_fakes_answer_the_non_streaming_calls(
    openai_fake: FakeLLMServer, bedrock_fake: FakeLLMServer
) -> None:
    client = openai.AsyncOpenAI(timeout=2, max_retries=0)
    async with asyncio.timeout(WAIT):
        completion = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "q"}]
        )
    assert completion.choices[0].message.content == "".join(DEFAULT_PIECES)
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    bedrock = boto3.session.Session().client("bedrock-runtime", region_name="us-east-1")
    response = await asyncio.wait_for(
        asyncio.to_thread(
            bedrock.converse,
            modelId=BEDROCK_MODEL,
            messages=[{"role": "user", "content": [{"text": "q"}]}],
        ),
        WAIT,
    )
    assert response["output"]["message"]["content"] == [{"text": "".join(BEDROCK_PIECES)}]
    assert response["usage"]["outputTokens"] == 3


async def test_abandoning_a_bedrock_stream_releases_its_thread(bedrock_fake: FakeLLMServer) -> None:
    model = FallbackChatModel(bedrock_chat(), ExtractiveChatModel())
    async with asyncio.timeout(WAIT):
        async with aclosing(model.stream_answer(QUERY, HITS)) as stream:
            async for first in stream:
                assert first == BEDROCK_PIECES[0]
                break
        while any(t.name == "bedrock-stream" for t in threading.enumerate()):
            await asyncio.sleep(0.01)


def test_prices_match_the_longest_model_prefix() -> None:
    assert cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)
    assert cost_usd("us.anthropic.claude-3-haiku-20240307-v1:0", 0, 1_000_000) == pytest.approx(
        1.25
    )
    assert cost_usd("some-new-model", 1, 1) is None
