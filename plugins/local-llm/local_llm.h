/* local_llm.h: the local-llm provider's internals (hidden, one plugin).
 *
 * local_llm.c           descriptor, options, create/destroy, convert():
 *                       one chat request to an OpenAI-compatible server
 *                       (POST {base_url}/v1/chat/completions) or Ollama
 *                       (POST {base_url}/api/chat) through the host's HTTP
 * local_llm_answer.c    the model's text -> the proposal JSON object
 */
#ifndef S2R_LOCAL_LLM_H
#define S2R_LOCAL_LLM_H

#include <s2r/plugin.h>

#define LLM_HIDDEN __attribute__((visibility("hidden")))

/**
 * Find the answer object in a model's reply @p text: leading/trailing
 * whitespace, a <think>...</think> preamble, a ``` code fence (with or
 * without a language tag) and prose around the object are skipped; json-c
 * parses the first complete JSON object. *@p out receives one reference.
 * @return S2R_OK; S2R_EINVAL with @p why (a short reason: "empty",
 *         "truncated JSON", "no JSON object", "not a JSON object").
 */
LLM_HIDDEN int llm_answer_extract(const char *text, size_t len,
                                  json_object **out, char *why,
                                  size_t why_len);

#endif
