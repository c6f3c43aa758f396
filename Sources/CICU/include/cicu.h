// A few ICU services under tokenkit's own names. ICU exports versioned symbols through macros
// (u_charType_72 …) that Swift cannot import, and its headers clash with Foundation's ICU copy,
// so Swift sees only these plain C functions.
#ifndef TOKENKIT_CICU_H
#define TOKENKIT_CICU_H
#include <stdint.h>
#include <stddef.h>

/// General category as ICU's UCharCategory value (0 = unassigned … 29).
int tk_char_type(int32_t c);
/// 1 if `c` has the Unicode White_Space property.
int tk_is_white_space(int32_t c);
/// The Script property as ICU's UScriptCode (0 Common, 1 Inherited, 17 Han, 20 Hiragana, 22
/// Katakana …), or -1.
int tk_script(int32_t c);
/// The Unicode version that assigned `c`, as major × 100 + minor (0 when unassigned).
int tk_char_age(int32_t c);

/// A compiled ICU regular expression. Not thread-safe: clone it for each thread.
typedef struct tk_regex tk_regex;
/// Compiles a UTF-8 pattern; on failure returns NULL and writes a message into err.
tk_regex *tk_regex_open(const char *pattern, size_t length, char *err, size_t errlen);
tk_regex *tk_regex_clone(const tk_regex *re);
void tk_regex_close(tk_regex *re);
/// Finds every match in UTF-8 `text` (which must be valid UTF-8). Writes byte offsets as
/// start/end pairs into a malloc'd array (*out, 2 × count entries); returns the count, or -2 when
/// a match passed the backtracking time limit, -3 when it overflowed the backtrack stack, -1 else.
int64_t tk_regex_find_all(tk_regex *re, const uint8_t *text, size_t length, int64_t **out);

/// Unicode normalization of valid UTF-8: form 0 NFC, 1 NFD, 2 NFKC, 3 NFKD.
/// Returns a malloc'd UTF-8 buffer and its length in *outlen, or NULL on failure.
uint8_t *tk_normalize(int form, const uint8_t *text, size_t length, size_t *outlen);
/// Full Unicode lowercase (root locale) of valid UTF-8; malloc'd result as above.
uint8_t *tk_lowercase(const uint8_t *text, size_t length, size_t *outlen);
/// Word boundaries (ICU word break rules) of valid UTF-8 text: writes byte offsets of each
/// segment that contains a letter, number, kana or ideograph as start/end pairs; returns count or -1.
int64_t tk_word_segments(const uint8_t *text, size_t length, int64_t **out);

void tk_free(void *p);
#endif
