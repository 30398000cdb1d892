#include "runtime.h"

void print(const char *s) {
    while (*s)
        print_char(*s++);
}

void print_dec(uint64_t v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    print(&buf[i]);
}

void print_hex(uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char buf[19];
    int i = 18;
    buf[i] = 0;
    do {
        buf[--i] = digits[v & 0xf];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    print(&buf[i]);
}

static int failed_checks;

void check(bool ok, const char *what) {
    print(what);
    print(ok ? ": ok\n" : ": FAILED\n");
    if (!ok)
        failed_checks++;
}

int check_failures(void) { return failed_checks; }

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

const char *cmdline_value(const char *cmdline, const char *key) {
    const char *p = cmdline;
    while (*p) {
        while (is_space(*p))
            p++;
        const char *k = key;
        const char *q = p;
        while (*k && *q == *k) {
            k++;
            q++;
        }
        if (!*k && *q == '=')
            return q + 1;
        while (*p && !is_space(*p))
            p++;
    }
    return 0;
}

bool cmdline_number(const char *cmdline, const char *key, uint64_t *value) {
    const char *q = cmdline_value(cmdline, key);
    if (!q || *q < '0' || *q > '9')
        return false;
    uint64_t v = 0;
    for (; *q >= '0' && *q <= '9'; q++)
        v = v * 10 + (uint64_t)(*q - '0');
    *value = v;
    return true;
}

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}
