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

/* Token texts that end an assistant reply. */
bool chat_is_stop_text(const char *text, unsigned long len);

#endif
