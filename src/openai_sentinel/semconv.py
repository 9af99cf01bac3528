"""Every attribute, event and metric name openai-sentinel emits.

Names defined by the OpenTelemetry GenAI semantic conventions v1.41 (``gen_ai.*``,
``openai.*``, ``server.*``, ``error.type``) are used as the conventions spell them;
anything the conventions do not define lives under the ``sentinel.*`` namespace.
Documentation and tests read names from this module, never from string literals.
"""

from __future__ import annotations

from typing import Final

SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.0"
INSTRUMENTATION_SCOPE: Final = "openai_sentinel"

# -- span attributes: request ---------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
OPENAI_API_TYPE: Final = "openai.api.type"
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID: Final = "gen_ai.request.previous_response.id"
"""From the GenAI conventions' repository (after v1.41): the Responses API's
``previous_response_id``."""
GEN_AI_REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"
"""From the GenAI conventions' repository (after v1.41): the reasoning effort asked for."""

# -- span attributes: response --------------------------------------------------------
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
"""The latest conventions' name for ``gen_ai.usage.cache_creation.input_tokens``."""
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"
ERROR_TYPE: Final = "error.type"

# -- span events ---------------------------------------------------------------------
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"

# -- span attributes: opt-in content ----------------------------------------------------
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"

# -- span attributes: project namespace ---------------------------------------------------
SENTINEL_STREAM_END: Final = "sentinel.stream.end"
"""How a stream ended: ``completed``, ``error``, ``closed`` (closed early) or ``abandoned``."""
SENTINEL_STREAM_CHUNKS: Final = "sentinel.stream.chunks"
"""Output chunks a stream delivered: chat and completion chunks with choices, Responses
``….delta`` events, partial and final images; lifecycle events are not counted."""
SENTINEL_STREAM_USAGE_INJECTED: Final = "sentinel.stream.usage_injected"
"""True when openai-sentinel added ``stream_options.include_usage`` to the request."""
SENTINEL_COST_USD: Final = "sentinel.cost.usd"
"""What the call cost in USD, from its usage and the model's prices."""
SENTINEL_COST_INPUT_USD: Final = "sentinel.cost.input_usd"
"""The input part of ``sentinel.cost.usd`` (cached and cache-written tokens included)."""
SENTINEL_COST_OUTPUT_USD: Final = "sentinel.cost.output_usd"
"""The output part of ``sentinel.cost.usd`` (reasoning tokens included)."""
SENTINEL_COST_SOURCE: Final = "sentinel.cost.source"
"""Where the prices came from, with its version, e.g. ``genai-prices 0.2.3``."""
SENTINEL_COST_UNPRICED: Final = "sentinel.cost.unpriced"
"""True when the call could not be priced (unknown model, or no usage): never a zero."""
SENTINEL_COST_OVER_THRESHOLD: Final = "sentinel.cost.over_threshold"
"""True when the call cost more than the ``cost_threshold_usd`` setting."""
SENTINEL_COST_CACHED_INPUT_USD: Final = "sentinel.cost.cached_input_usd"
"""The part of ``sentinel.cost.input_usd`` paid for cache-read tokens (when there were any)."""
SENTINEL_COST_CACHE_SAVINGS_USD: Final = "sentinel.cost.cache_savings_usd"
"""What the cache-read tokens would have cost more at the uncached input rate."""
SENTINEL_COST_TIER_MULTIPLIER: Final = "sentinel.cost.service_tier_multiplier"
"""The multiplier applied for the response's service tier, when the price data has no
price of its own for that tier (see the prices file's ``service_tiers``)."""
SENTINEL_REQUEST_REPEAT: Final = "sentinel.request.repeat"
"""True when the same request (model aside) was sent within ``repeat_window_seconds``."""
SENTINEL_REQUEST_REPEAT_MODEL_CHANGED: Final = "sentinel.request.repeat.model_changed"
"""True when a repeat went to another model than the first time (a retry escalating)."""
SENTINEL_REQUEST_REPEAT_FIRST_MODEL: Final = "sentinel.request.repeat.first_model"
"""The model a repeat was first sent to, when it changed; also a metric attribute."""
SENTINEL_CONFIDENCE: Final = "sentinel.confidence"
"""How sure the model was of its (first) answer, in [0, 1]: the geometric mean of its
token probabilities from logprobs, or the documented heuristic."""
SENTINEL_CONFIDENCE_MIN_TOKEN: Final = "sentinel.confidence.min_token"
"""Probability of the answer's least likely token (logprobs only)."""
SENTINEL_CONFIDENCE_SOURCE: Final = "sentinel.confidence.source"
"""``logprobs`` or ``heuristic``."""
CONFIDENCE_SOURCE_LOGPROBS: Final = "logprobs"
CONFIDENCE_SOURCE_HEURISTIC: Final = "heuristic"
DRIFT_SIGNAL_CONFIDENCE: Final = "confidence"
DRIFT_SIGNAL_OUTPUT_LENGTH: Final = "output_length"
DRIFT_SIGNAL_TRUNCATION: Final = "truncation"
DRIFT_OK: Final = "ok"
DRIFT_WARNING: Final = "warning"
DRIFT_CRITICAL: Final = "critical"
SENTINEL_LOGPROBS_INJECTED: Final = "sentinel.logprobs_injected"
"""True when openai-sentinel asked for the logprobs (the ``request_logprobs`` setting)."""
SENTINEL_RESPONSE_TRUNCATED: Final = "sentinel.response.truncated"
"""True when an answer was cut by the token limit (``length``, ``max_output_tokens``)."""
SENTINEL_RESPONSE_REFUSAL: Final = "sentinel.response.refusal"
"""True when an answer was a refusal."""
SENTINEL_RESPONSE_CONTENT_FILTERED: Final = "sentinel.response.content_filtered"
"""True when an answer was stopped by the content filter."""
SENTINEL_CHOICE_INDEX: Final = "sentinel.choice.index"
"""The answer an event describes, when a call asked for several (``n``)."""
EVENT_CONFIDENCE: Final = "sentinel.confidence"
"""Span event: the confidence of one answer of several."""
EVENT_DRIFT: Final = "sentinel.drift"
"""Span event: a drift state change this call caused (ok, warning, critical)."""
SENTINEL_DRIFT_SIGNAL: Final = "sentinel.drift.signal"
"""``confidence``, ``output_length`` or ``truncation``."""
SENTINEL_DRIFT_SEVERITY: Final = "sentinel.drift.severity"
"""``ok``, ``warning`` or ``critical``."""
SENTINEL_DRIFT_PREVIOUS_SEVERITY: Final = "sentinel.drift.previous_severity"
SENTINEL_DRIFT_DROP: Final = "sentinel.drift.drop"
"""How much worse the recent level is than the baseline, relative: 0.08 is 8% lower
confidence or output length, or an 8% higher truncation rate."""
SENTINEL_DRIFT_BASELINE: Final = "sentinel.drift.baseline"
SENTINEL_SECURITY_INJECTION_SCORE: Final = "sentinel.security.injection.score"
"""How likely the prompt is an injection or jailbreak attempt, in [0, 1]."""
SENTINEL_SECURITY_INJECTION: Final = "sentinel.security.injection"
"""True when the injection score reached the threshold."""
SENTINEL_SECURITY_CATEGORIES: Final = "sentinel.security.categories"
"""The finding categories of the call, input and output, sorted (``pii``, ``jailbreak``…)."""
SENTINEL_SECURITY_ACTION: Final = "sentinel.security.action"
"""What the policy did: ``observed``, ``redacted`` or ``blocked``."""
SENTINEL_SECURITY_BLOCKED: Final = "sentinel.security.blocked"
"""True when the policy stopped the call (it was never sent) or replaced its answer."""
SENTINEL_SECURITY_HALLUCINATION_RISK: Final = "sentinel.security.hallucination_risk"
"""``low``, ``medium``, ``high`` or ``critical``: how risky a confident answer is here."""
SENTINEL_SECURITY_DOMAIN: Final = "sentinel.security.domain"
"""``medical``, ``legal`` or ``financial`` when the request is about one of them."""
SENTINEL_SECURITY_RULES_VERSION: Final = "sentinel.security.rules_version"
SENTINEL_SECURITY_RULE_ID: Final = "sentinel.security.rule_id"
SENTINEL_SECURITY_CATEGORY: Final = "sentinel.security.category"
SENTINEL_SECURITY_SEVERITY: Final = "sentinel.security.severity"
SENTINEL_SECURITY_DIRECTION: Final = "sentinel.security.direction"
"""``input`` (the request) or ``output`` (the answer)."""
SENTINEL_SECURITY_ENTITY: Final = "sentinel.security.entity"
"""A PII finding's entity type, as Presidio names them (``EMAIL_ADDRESS``…)."""
SENTINEL_SECURITY_START: Final = "sentinel.security.start"
SENTINEL_SECURITY_END: Final = "sentinel.security.end"
SENTINEL_SECURITY_MATCH: Final = "sentinel.security.match"
"""The matched text, redacted; only when content capture is on."""
SENTINEL_CONFIDENCE_HALVED: Final = "sentinel.confidence.halved"
"""True when critical hallucination risk halved the reported confidence."""
EVENT_SECURITY_FINDING: Final = "sentinel.security.finding"
"""Span event: one security finding (never the matched text unless capture is on)."""
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
"""Log event: an evaluation of an answer recorded after the call (``record_evaluation``)."""
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
"""What was evaluated: ``user_feedback``, a grader's name."""
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
"""The evaluation's score, a number."""
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
"""The evaluation's verdict, a word: ``thumbs_up``, ``relevant``."""
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"
"""Why the evaluation says so, free text from the application."""
SECURITY_DIRECTION_INPUT: Final = "input"
SECURITY_DIRECTION_OUTPUT: Final = "output"
SECURITY_CATEGORY_PROMPT_INJECTION: Final = "prompt_injection"
SECURITY_CATEGORY_JAILBREAK: Final = "jailbreak"
SECURITY_CATEGORY_ROLE_INJECTION: Final = "role_injection"
SECURITY_CATEGORY_PROMPT_EXTRACTION: Final = "prompt_extraction"
SECURITY_CATEGORY_OBFUSCATION: Final = "obfuscation"
SECURITY_CATEGORY_PII: Final = "pii"
SECURITY_CATEGORY_SECRET: Final = "secret"
SECURITY_CATEGORY_HALLUCINATION_RISK: Final = "hallucination_risk"
SEVERITY_LOW: Final = "low"
SEVERITY_MEDIUM: Final = "medium"
SEVERITY_HIGH: Final = "high"
SEVERITY_CRITICAL: Final = "critical"
SEVERITIES: Final = (SEVERITY_LOW, SEVERITY_MEDIUM, SEVERITY_HIGH, SEVERITY_CRITICAL)
"""Severities and hallucination risks, least to most."""
SECURITY_ACTION_OBSERVED: Final = "observed"
SECURITY_ACTION_REDACTED: Final = "redacted"
SECURITY_ACTION_BLOCKED: Final = "blocked"
DOMAIN_MEDICAL: Final = "medical"
DOMAIN_LEGAL: Final = "legal"
DOMAIN_FINANCIAL: Final = "financial"
SENTINEL_RESPONSE_UNREAD: Final = "sentinel.response.unread"
"""True for ``with_streaming_response`` calls, whose body the instrumentation never reads."""

# -- span attributes: proposed GenAI cost conventions (semantic-conventions-genai#443) ------
GEN_AI_USAGE_COST_AMOUNT: Final = "gen_ai.usage.cost.amount"
GEN_AI_USAGE_COST_CURRENCY: Final = "gen_ai.usage.cost.currency"
GEN_AI_USAGE_COST_SOURCE: Final = "gen_ai.usage.cost.source"
COST_CURRENCY_USD: Final = "USD"
COST_SOURCE_LOCAL: Final = "local"
"""Computed in the process from usage and prices (the proposal's other value: ``provider``)."""

# -- metric attribute values ------------------------------------------------------------------
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"
TOKEN_MODALITY_UNKNOWN: Final = "unknown"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"

# -- well-known values ---------------------------------------------------------------
OPERATION_CHAT: Final = "chat"
OPERATION_TEXT_COMPLETION: Final = "text_completion"
OPERATION_EMBEDDINGS: Final = "embeddings"
OPERATION_FETCH_RESPONSE: Final = "fetch_response"
"""From the GenAI conventions' repository (after v1.41): fetching a stored response."""
# Operations the conventions do not name, in their ``verb_object`` style:
OPERATION_GENERATE_IMAGE: Final = "generate_image"
OPERATION_EDIT_IMAGE: Final = "edit_image"
OPERATION_CREATE_IMAGE_VARIATION: Final = "create_image_variation"
OPERATION_TRANSCRIBE_AUDIO: Final = "transcribe_audio"
OPERATION_TRANSLATE_AUDIO: Final = "translate_audio"
OPERATION_GENERATE_SPEECH: Final = "generate_speech"
OPERATION_MODERATE_CONTENT: Final = "moderate_content"
OUTPUT_TYPE_IMAGE: Final = "image"
OUTPUT_TYPE_SPEECH: Final = "speech"
OUTPUT_TYPE_TEXT: Final = "text"
PROVIDER_OPENAI: Final = "openai"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_AZURE_INFERENCE: Final = "azure.ai.inference"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_COHERE: Final = "cohere"
PROVIDER_DEEPSEEK: Final = "deepseek"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_GROQ: Final = "groq"
PROVIDER_MISTRAL_AI: Final = "mistral_ai"
PROVIDER_PERPLEXITY: Final = "perplexity"
PROVIDER_X_AI: Final = "x_ai"
API_TYPE_CHAT_COMPLETIONS: Final = "chat_completions"
API_TYPE_RESPONSES: Final = "responses"
FINISH_REASON_STOP: Final = "stop"
FINISH_REASON_LENGTH: Final = "length"
FINISH_REASON_CONTENT_FILTER: Final = "content_filter"
FINISH_REASON_TOOL_CALLS: Final = "tool_calls"
FINISH_REASON_ERROR: Final = "error"
"""Reported for a choice whose finish reason was expected but never received."""
ERROR_TYPE_OTHER: Final = "_OTHER"

# -- metrics ----------------------------------------------------------------------
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
METRIC_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"

METRIC_COST: Final = "sentinel.cost"
"""Counter of USD spent (unit ``USD``; Prometheus: ``sentinel_cost_USD_total``)."""
METRIC_REQUEST_COST: Final = "sentinel.request.cost"
"""Histogram of USD per request (Prometheus: ``sentinel_request_cost_USD_bucket``)."""
METRIC_COST_OVER_THRESHOLD: Final = "sentinel.request.cost.over_threshold"
"""Counter of requests over ``cost_threshold_usd``
(Prometheus: ``sentinel_request_cost_over_threshold_total``)."""
METRIC_COST_CACHE_SAVINGS: Final = "sentinel.cost.cache_savings"
"""Counter of USD the prompt cache saved (Prometheus: ``sentinel_cost_cache_savings_USD_total``)."""
METRIC_REQUEST_REPEATS: Final = "sentinel.request.repeats"
"""Counter of repeated requests (Prometheus: ``sentinel_request_repeats_total``)."""
METRIC_REQUEST_REPEAT_COST: Final = "sentinel.request.repeat.cost"
"""Counter of USD spent on repeats of a request that had been answered, what a response
cache would have saved (Prometheus: ``sentinel_request_repeat_cost_USD_total``)."""
METRIC_REQUEST_MODEL_SWITCHES: Final = "sentinel.request.repeat.model_switches"
"""Counter of repeats sent to another model than the first time, by first and new model
(Prometheus: ``sentinel_request_repeat_model_switches_total``)."""
METRIC_CONFIDENCE: Final = "sentinel.confidence"
"""Histogram of answer confidence, unit ``1`` (Prometheus: ``sentinel_confidence_bucket``)."""
CONFIDENCE_BUCKETS: Final = (
    0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8,
    0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95,
    0.96, 0.97, 0.98, 0.99,
)  # fmt: skip
"""0.05 steps, 0.01 above 0.8, where healthy answers sit and a 3% shift shows."""
METRIC_TRUNCATIONS: Final = "sentinel.response.truncations"
"""Counter of calls with a truncated answer (Prometheus:
``sentinel_response_truncations_total``)."""
METRIC_REFUSALS: Final = "sentinel.response.refusals"
"""Counter of calls with a refusal (Prometheus: ``sentinel_response_refusals_total``)."""
METRIC_CONTENT_FILTERED: Final = "sentinel.response.content_filtered"
"""Counter of calls stopped by the content filter
(Prometheus: ``sentinel_response_content_filtered_total``)."""
METRIC_DRIFT: Final = "sentinel.drift"
"""Gauge of how much worse (%) each watched signal is than its baseline (the percent
drop of confidence), by model, operation and signal
(Prometheus: ``sentinel_drift_percent``)."""
METRIC_DRIFT_SEVERITY: Final = "sentinel.drift.severity"
"""Gauge: 0 ok, 1 warning, 2 critical, by model, operation and signal
(Prometheus: ``sentinel_drift_severity``)."""
METRIC_DRIFT_ALARMS: Final = "sentinel.drift.alarms"
"""Counter of drift state changes to warning or critical
(Prometheus: ``sentinel_drift_alarms_total``)."""
METRIC_SECURITY_EVENTS: Final = "sentinel.security.events"
"""Counter of security findings by category, severity, direction and action
(Prometheus: ``sentinel_security_events_total``)."""
COST_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)  # fmt: skip
"""Per-request cost bucket boundaries (USD): $0.0001 to $1, with the default threshold."""

# -- metrics of the conventions' latest experimental version (opt-in) ----------------------
SEMCONV_STABILITY_OPT_IN_ENV: Final = "OTEL_SEMCONV_STABILITY_OPT_IN"
SEMCONV_GENAI_LATEST: Final = "gen_ai_latest_experimental"
METRIC_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
METRIC_INFERENCE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.inference.time_to_first_chunk"
METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.inference.time_per_output_chunk"
METRIC_INFERENCE_USAGE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
METRIC_INFERENCE_USAGE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
METRIC_INFERENCE_USAGE_CACHE_READ_TOKENS: Final = (
    "gen_ai.client.inference.usage.cache_read.input_tokens"
)
METRIC_INFERENCE_USAGE_CACHE_WRITE_TOKENS: Final = (
    "gen_ai.client.inference.usage.cache_write.input_tokens"
)
METRIC_INFERENCE_USAGE_REASONING_TOKENS: Final = (
    "gen_ai.client.inference.usage.reasoning.output_tokens"
)
METRIC_INFERENCE_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
METRIC_OPERATION_COST: Final = "gen_ai.client.operation.cost"
"""Proposed (semantic-conventions-genai#443): USD per operation, a histogram
(Prometheus: ``gen_ai_client_operation_cost_USD_bucket``)."""

DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
"""Advisory bucket boundaries (s) of the conventions for duration and chunk timings."""
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
"""Advisory bucket boundaries ({token}) of the conventions for token usage."""

METRIC_DESCRIPTIONS: Final = {
    METRIC_OPERATION_DURATION: "GenAI operation duration",
    METRIC_TOKEN_USAGE: "Number of input and output tokens used",
    METRIC_TIME_TO_FIRST_CHUNK: "Time to receive the first chunk in a streaming operation",
    METRIC_TIME_PER_OUTPUT_CHUNK: "Time between consecutive chunks in a streaming operation",
    METRIC_COST: "USD spent on model calls",
    METRIC_REQUEST_COST: "USD per model call",
    METRIC_COST_OVER_THRESHOLD: "Model calls that cost more than the threshold",
    METRIC_COST_CACHE_SAVINGS: "USD the prompt cache saved",
    METRIC_REQUEST_REPEATS: "Requests repeated within the repeat window",
    METRIC_REQUEST_REPEAT_COST: "USD spent on repeated requests",
    METRIC_REQUEST_MODEL_SWITCHES: "Repeated requests sent to another model than the first time",
    METRIC_OPERATION_COST: "GenAI operation cost",
    METRIC_CONFIDENCE: "How sure the model was of its answer",
    METRIC_TRUNCATIONS: "Model calls whose answer was cut by the token limit",
    METRIC_REFUSALS: "Model calls whose answer was a refusal",
    METRIC_CONTENT_FILTERED: "Model calls stopped by the content filter",
    METRIC_DRIFT: "How much worse a watched signal is than its baseline",
    METRIC_DRIFT_SEVERITY: "Drift state of a watched signal: 0 ok, 1 warning, 2 critical",
    METRIC_DRIFT_ALARMS: "Drift alarms raised",
    METRIC_SECURITY_EVENTS: "Security findings on model calls",
    METRIC_INFERENCE_DURATION: "GenAI inference duration",
    METRIC_INFERENCE_TIME_TO_FIRST_CHUNK: "Time to receive the first chunk of a streamed inference",
    METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK: "Time between chunks of a streamed inference",
    METRIC_INFERENCE_USAGE_INPUT_TOKENS: "Input tokens used, cached tokens included",
    METRIC_INFERENCE_USAGE_OUTPUT_TOKENS: "Output tokens used, reasoning tokens included",
    METRIC_INFERENCE_USAGE_CACHE_READ_TOKENS: "Input tokens read from the cache",
    METRIC_INFERENCE_USAGE_CACHE_WRITE_TOKENS: "Input tokens written to the cache",
    METRIC_INFERENCE_USAGE_REASONING_TOKENS: "Output tokens spent on reasoning",
    METRIC_INFERENCE_OPERATION_INPUT_TOKENS: "Input tokens per inference operation",
    METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS: "Output tokens per inference operation",
}
