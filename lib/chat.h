/* SPDX-License-Identifier: MIT */
/*
 * ChatML prompt formatting (Qwen2.5-Instruct, SmolLM2-Instruct):
 *   <|im_start|>system\n{system}<|im_end|>\n
 *   <|im_start|>user\n{message}<|im_end|>\n
 *   <|im_start|>assistant\n
 * The text is meant to be encoded with special tokens parsed.
 */
#ifndef ROSENBLATT_CHAT_H
#define ROSENBLATT_CHAT_H

#include <stdbool.h>

/* Qwen2.5's template default when no system message is given. */
#define CHAT_QWEN_DEFAULT_SYSTEM "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

/*
 * The text for one user turn, malloc'd (NULL on allocation failure).
 * system: added before the turn when not NULL (the first turn).
 * close_previous: the previous assistant reply did not end with an
 * <|im_end|> token that is still to be evaluated, so close it in text.
 */
char *chat_user_turn(const char *system, const char *message, bool close_previous);

/*
 * The system message a ChatML chat template (GGUF tokenizer.chat_template,
 * len bytes) inserts when the conversation has none: the first
 * "<|im_start|>system\n...<|im_end|>" in it whose text is a literal (no
 * quote, brace or '+', i.e. no template code). SmolLM2-Instruct's is "You
 * are a helpful AI assistant named SmolLM, trained by Hugging Face",
 * Qwen2.5-Instruct's CHAT_QWEN_DEFAULT_SYSTEM. malloc'd; NULL if none.
 */
char *chat_template_default_system(const char *tmpl, unsigned long len);

/* Token texts that end an assistant reply. */
bool chat_is_stop_text(const char *text, unsigned long len);

#endif
