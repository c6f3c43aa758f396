#include "cicu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uregex.h>
#include <unicode/utext.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/ubrk.h>
#include <unicode/uscript.h>

int tk_char_type(int32_t c) { return (int)u_charType(c); }
int tk_is_white_space(int32_t c) { return u_isUWhiteSpace(c) ? 1 : 0; }

int tk_char_age(int32_t c) {
    UVersionInfo v;
    u_charAge(c, v);
    return v[0] * 100 + v[1];
}

int tk_script(int32_t c) {
    UErrorCode status = U_ZERO_ERROR;
    UScriptCode code = uscript_getScript(c, &status);
    return U_FAILURE(status) ? -1 : (int)code;
}

struct tk_regex { URegularExpression *re; };

// Backtracking budget of one match, in ICU's units of 10,000 state saves: ordinary split
// patterns never come near it, and a catastrophic one ((a+)+$) stops within about a second.
#define TK_REGEX_TIME_LIMIT 2000

tk_regex *tk_regex_open(const char *pattern, size_t length, char *err, size_t errlen) {
    UErrorCode status = U_ZERO_ERROR;
    UParseError pe;
    pe.offset = -1;  // Set by syntax errors only.
    UText *pt = utext_openUTF8(NULL, pattern, (int64_t)length, &status);
    if (U_FAILURE(status)) { snprintf(err, errlen, "%s", u_errorName(status)); return NULL; }
    URegularExpression *re = uregex_openUText(pt, 0, &pe, &status);
    utext_close(pt);
    if (U_FAILURE(status)) {
        if (pe.offset >= 0) snprintf(err, errlen, "%s at offset %d", u_errorName(status), pe.offset);
        else snprintf(err, errlen, "%s", u_errorName(status));
        return NULL;
    }
    uregex_setTimeLimit(re, TK_REGEX_TIME_LIMIT, &status);
    tk_regex *r = malloc(sizeof *r);
    r->re = re;
    return r;
}

tk_regex *tk_regex_clone(const tk_regex *src) {
    UErrorCode status = U_ZERO_ERROR;
    URegularExpression *re = uregex_clone(src->re, &status);
    if (U_FAILURE(status)) return NULL;
    // A clone starts with no limit of its own.
    uregex_setTimeLimit(re, TK_REGEX_TIME_LIMIT, &status);
    tk_regex *r = malloc(sizeof *r);
    r->re = re;
    return r;
}

void tk_regex_close(tk_regex *r) {
    if (!r) return;
    uregex_close(r->re);
    free(r);
}

int64_t tk_regex_find_all(tk_regex *r, const uint8_t *text, size_t length, int64_t **out) {
    UErrorCode status = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, (const char *)text, (int64_t)length, &status);
    if (U_FAILURE(status)) return -1;
    uregex_setUText(r->re, ut, &status);
    size_t cap = 64, n = 0;
    int64_t *buf = malloc(cap * 2 * sizeof(int64_t));
    while (U_SUCCESS(status) && uregex_findNext(r->re, &status)) {
        int64_t s = uregex_start64(r->re, 0, &status), e = uregex_end64(r->re, 0, &status);
        if (n == cap) { cap *= 2; buf = realloc(buf, cap * 2 * sizeof(int64_t)); }
        buf[2 * n] = s; buf[2 * n + 1] = e; n++;
    }
    // Detach the text before closing it so the regex holds no dangling pointer.
    UErrorCode ignore = U_ZERO_ERROR;
    uregex_setText(r->re, NULL, 0, &ignore);
    utext_close(ut);
    if (U_FAILURE(status)) {
        free(buf);
        if (status == U_REGEX_TIME_OUT) return -2;
        if (status == U_REGEX_STACK_OVERFLOW) return -3;
        return -1;
    }
    *out = buf;
    return (int64_t)n;
}

static UChar *to_utf16(const uint8_t *text, size_t length, int32_t *outlen) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(NULL, 0, &n, (const char *)text, (int32_t)length, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return NULL;
    status = U_ZERO_ERROR;
    UChar *u = malloc(sizeof(UChar) * (n + 1));
    u_strFromUTF8(u, n + 1, NULL, (const char *)text, (int32_t)length, &status);
    if (U_FAILURE(status)) { free(u); return NULL; }
    *outlen = n;
    return u;
}

static uint8_t *to_utf8(const UChar *u, int32_t n, size_t *outlen) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t m = 0;
    u_strToUTF8(NULL, 0, &m, u, n, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return NULL;
    status = U_ZERO_ERROR;
    uint8_t *out = malloc((size_t)m + 1);
    u_strToUTF8((char *)out, m + 1, NULL, u, n, &status);
    if (U_FAILURE(status)) { free(out); return NULL; }
    *outlen = (size_t)m;
    return out;
}

uint8_t *tk_normalize(int form, const uint8_t *text, size_t length, size_t *outlen) {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *norm = NULL;
    switch (form) {
    case 0: norm = unorm2_getNFCInstance(&status); break;
    case 1: norm = unorm2_getNFDInstance(&status); break;
    case 2: norm = unorm2_getNFKCInstance(&status); break;
    default: norm = unorm2_getNFKDInstance(&status); break;
    }
    if (U_FAILURE(status)) return NULL;
    int32_t n = 0;
    UChar *u = to_utf16(text, length, &n);
    if (!u) return NULL;
    int32_t cap = n * 4 + 16;
    UChar *dst = malloc(sizeof(UChar) * cap);
    int32_t m = unorm2_normalize(norm, u, n, dst, cap, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        status = U_ZERO_ERROR;
        dst = realloc(dst, sizeof(UChar) * (m + 1));
        m = unorm2_normalize(norm, u, n, dst, m + 1, &status);
    }
    free(u);
    if (U_FAILURE(status)) { free(dst); return NULL; }
    uint8_t *out = to_utf8(dst, m, outlen);
    free(dst);
    return out;
}

uint8_t *tk_lowercase(const uint8_t *text, size_t length, size_t *outlen) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = 0;
    UChar *u = to_utf16(text, length, &n);
    if (!u) return NULL;
    /* HF lowercases one character at a time, so capital sigma is always σ: ICU would make a
       word-final one ς. Already-small σ is left alone by ICU. */
    for (int32_t i = 0; i < n; i++) if (u[i] == 0x03A3) u[i] = 0x03C3;
    int32_t cap = n * 3 + 16;
    UChar *dst = malloc(sizeof(UChar) * cap);
    int32_t m = u_strToLower(dst, cap, u, n, "", &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        status = U_ZERO_ERROR;
        dst = realloc(dst, sizeof(UChar) * (m + 1));
        m = u_strToLower(dst, m + 1, u, n, "", &status);
    }
    free(u);
    if (U_FAILURE(status)) { free(dst); return NULL; }
    uint8_t *out = to_utf8(dst, m, outlen);
    free(dst);
    return out;
}

int64_t tk_word_segments(const uint8_t *text, size_t length, int64_t **out) {
    UErrorCode status = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, (const char *)text, (int64_t)length, &status);
    if (U_FAILURE(status)) return -1;
    UBreakIterator *bi = ubrk_open(UBRK_WORD, "", NULL, 0, &status);
    if (U_FAILURE(status)) { utext_close(ut); return -1; }
    ubrk_setUText(bi, ut, &status);
    size_t cap = 64, n = 0;
    int64_t *buf = malloc(cap * 2 * sizeof(int64_t));
    int32_t start = ubrk_first(bi);
    for (int32_t end = ubrk_next(bi); end != UBRK_DONE; start = end, end = ubrk_next(bi)) {
        if (ubrk_getRuleStatus(bi) == UBRK_WORD_NONE) continue;
        if (n == cap) { cap *= 2; buf = realloc(buf, cap * 2 * sizeof(int64_t)); }
        buf[2 * n] = start; buf[2 * n + 1] = end; n++;
    }
    ubrk_close(bi);
    utext_close(ut);
    *out = buf;
    return (int64_t)n;
}

void tk_free(void *p) { free(p); }
