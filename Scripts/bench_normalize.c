// ICU vs utf8proc for the normalizers tokenkit runs (NFC, NFKC, NFD, NFKD), on UTF-8 text:
// ICU as tokenkit calls it (UTF-8 → UTF-16 → unorm2_normalize → UTF-8, see Sources/CICU),
// utf8proc_map straight from UTF-8. Prints MB/s for each and whether the outputs are equal.
// Built and run by Scripts/bench_normalize.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <utf8proc.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint8_t *icu(int form, const uint8_t *text, size_t length, size_t *outlen) {
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *n = form == 0 ? unorm2_getNFCInstance(&st) : form == 1 ? unorm2_getNFDInstance(&st)
                          : form == 2 ? unorm2_getNFKCInstance(&st) : unorm2_getNFKDInstance(&st);
    int32_t len16 = 0;
    u_strFromUTF8(NULL, 0, &len16, (const char *)text, (int32_t)length, &st);
    st = U_ZERO_ERROR;
    UChar *u = malloc(sizeof(UChar) * (len16 + 1));
    u_strFromUTF8(u, len16 + 1, NULL, (const char *)text, (int32_t)length, &st);
    int32_t cap = len16 * 4 + 16;
    UChar *d = malloc(sizeof(UChar) * cap);
    int32_t m = unorm2_normalize(n, u, len16, d, cap, &st);
    int32_t n8 = 0;
    st = U_ZERO_ERROR;
    u_strToUTF8(NULL, 0, &n8, d, m, &st);
    st = U_ZERO_ERROR;
    uint8_t *out = malloc(n8 + 1);
    u_strToUTF8((char *)out, n8 + 1, NULL, d, m, &st);
    free(u);
    free(d);
    *outlen = n8;
    return out;
}

static uint8_t *u8p(int form, const uint8_t *text, size_t length, size_t *outlen) {
    static const utf8proc_option_t opts[4] = {
        UTF8PROC_STABLE | UTF8PROC_COMPOSE, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE,
        UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT};
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map(text, (utf8proc_ssize_t)length, &out, opts[form]);
    *outlen = n < 0 ? 0 : (size_t)n;
    return out;
}

// The scanners' class table (Sources/TokenKitText/CharClass.swift): general category and
// White_Space of every code point below 0x30000, from each library; returns seconds.
static double classTable(int useICU, uint8_t *table) {
    double t0 = now();
    for (int32_t c = 0; c < 0x30000; c++) {
        int cat, space;
        if (useICU) {
            cat = u_charType(c);
            space = u_isUWhiteSpace(c);
        } else {
            // utf8proc numbers categories in ICU's order except Cn (0) and Lu (1) … (see utf8proc.h).
            cat = utf8proc_category(c);
            space = (c >= 9 && c <= 13) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
                    (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
        }
        table[c] = (uint8_t)(cat << 1 | space);
    }
    return now() - t0;
}

int main(int argc, char **argv) {
    {
        uint8_t *a = malloc(0x30000), *b = malloc(0x30000);
        double ta = 1e9, tb = 1e9;
        for (int rep = 0; rep < 5; rep++) {
            double x = classTable(1, a), y = classTable(0, b);
            if (x < ta) ta = x;
            if (y < tb) tb = y;
        }
        int diff = 0;
        for (int c = 0; c < 0x30000; c++) {
            int ca = a[c] >> 1, cb = b[c] >> 1;
            // ICU: Cn=0 Lu=1 Ll=2 Lt=3 Lm=4 Lo=5 Mn=6 Me=7 Mc=8 Nd=9 Nl=10 No=11 Zs=12 Zl=13 Zp=14 Cc=15 Cf=16 Co=17
            // Cs=18 Pd=19 Ps=20 Pe=21 Pc=22 Po=23 Sm=24 Sc=25 Sk=26 So=27 Pi=28 Pf=29.
            // utf8proc: Cn=0 Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co.
            static const int toICU[30] = {0, 1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 11, 22, 19, 20, 21, 28, 29, 23, 24, 25, 26, 27,
                                          12, 13, 14, 15, 16, 18, 17};
            if (toICU[cb] != ca || (a[c] & 1) != (b[c] & 1)) diff++;
        }
        printf("class table of 0x30000 code points: ICU %.1f ms, utf8proc %.1f ms, %d code points differ\n\n",
               ta * 1e3, tb * 1e3, diff);
        free(a);
        free(b);
    }
    static const char *names[4] = {"NFC", "NFD", "NFKC", "NFKD"};
    printf("| text | bytes | form | ICU MB/s | utf8proc MB/s | same output |\n|---|---:|---|---:|---:|---|\n");
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f) { perror(argv[a]); return 1; }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *text = malloc(size);
        if (fread(text, 1, size, f) != (size_t)size) return 1;
        fclose(f);
        const char *label = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];
        for (int form = 0; form < 4; form++) {
            double best[2] = {1e9, 1e9};
            size_t la = 0, lb = 0;
            uint8_t *ra = NULL, *rb = NULL;
            for (int rep = 0; rep < 7; rep++) {
                free(ra);
                free(rb);
                double t0 = now();
                ra = icu(form, text, size, &la);
                double t1 = now();
                rb = u8p(form, text, size, &lb);
                double t2 = now();
                if (t1 - t0 < best[0]) best[0] = t1 - t0;
                if (t2 - t1 < best[1]) best[1] = t2 - t1;
            }
            int same = la == lb && memcmp(ra, rb, la) == 0;
            printf("| %s | %ld | %s | %.0f | %.0f | %s |\n", label, size, names[form], size / best[0] / 1e6,
                   size / best[1] / 1e6, same ? "yes" : "NO");
            free(ra);
            free(rb);
        }
        free(text);
    }
    return 0;
}
