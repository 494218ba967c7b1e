/*
 * buf.c — the agent's growable byte buffer (see buf.h). Capacity doubles,
 * so appending n bytes one piece at a time costs O(n); consumed bytes at the
 * front are reclaimed lazily, when they are more than half the buffer, so a
 * queue that is written and drained in turns does not creep.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/buf.h"

static int reserve(hsa_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    /* One byte more than asked, for the convenience NUL. */
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = true;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    if (b->off > 0 && b->off >= b->len / 2) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        need = b->len + extra + 1;
        if (need <= b->cap)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int hsa_buf_append(hsa_buf *b, const void *p, size_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int hsa_buf_puts(hsa_buf *b, const char *s)
{
    return hsa_buf_append(b, s, strlen(s));
}

int hsa_buf_vprintf(hsa_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || reserve(b, (size_t)n) < 0) {
        b->oom = true;
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int hsa_buf_printf(hsa_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = hsa_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void hsa_buf_consume(hsa_buf *b, size_t n)
{
    if (n > b->len - b->off)
        n = b->len - b->off;
    b->off += n;
    if (b->off == b->len) {
        b->off = 0;
        b->len = 0;
        if (b->data)
            b->data[0] = '\0';
    }
}

void hsa_buf_reset(hsa_buf *b)
{
    b->len = 0;
    b->off = 0;
    b->oom = false;
    if (b->data)
        b->data[0] = '\0';
}

char *hsa_buf_steal(hsa_buf *b, size_t *len)
{
    if (b->oom) {
        hsa_buf_free(b);
        return NULL;
    }
    if (!b->data && reserve(b, 0) < 0)
        return NULL;
    if (b->off) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    b->data[b->len] = '\0';
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = b->off = 0;
    return p;
}

void hsa_buf_free(hsa_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = b->off = 0;
    b->oom = false;
}

int hsa_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
