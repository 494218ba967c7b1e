/*
 * buf.h — a growable byte buffer for the agent (HTTP bodies, metrics text,
 * event-stream queues). Private to agent/.
 *
 * Why not jansson's or MHD's buffers: the metrics page and the event-stream
 * queues are plain text built piece by piece, and the queues must be
 * consumed from the front; one tiny type covers all three. Every append
 * checks for overflow and allocation failure; after a failure the buffer
 * remembers it (`oom`) so a long chain of appends needs one check at the end.
 */
#ifndef HSA_BUF_H
#define HSA_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct hsa_buf {
    char *data; /* NUL-terminated when len > 0 (a convenience for text) */
    size_t len;
    size_t cap;
    size_t off; /* bytes consumed from the front (hsa_buf_consume) */
    bool oom;   /* an append failed; contents are incomplete */
} hsa_buf;

#define HSA_BUF_INIT                                                           \
    {                                                                          \
        NULL, 0, 0, 0, false                                                   \
    }

/* 0 on success, -1 on allocation failure or overflow (sets b->oom). */
int hsa_buf_append(hsa_buf *b, const void *p, size_t n);
int hsa_buf_puts(hsa_buf *b, const char *s);
int hsa_buf_printf(hsa_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int hsa_buf_vprintf(hsa_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The unconsumed bytes. */
static inline const char *hsa_buf_head(const hsa_buf *b)
{
    return b->data ? b->data + b->off : "";
}
static inline size_t hsa_buf_avail(const hsa_buf *b)
{
    return b->len - b->off;
}

/* Drops n bytes from the front (n <= hsa_buf_avail). */
void hsa_buf_consume(hsa_buf *b, size_t n);

/* Empties the buffer, keeping its memory. */
void hsa_buf_reset(hsa_buf *b);

/* Hands the bytes to the caller (malloc'd, NUL-terminated, *len set) and
 * leaves b empty. NULL on allocation failure or if b->oom. */
char *hsa_buf_steal(hsa_buf *b, size_t *len);

void hsa_buf_free(hsa_buf *b);

/* Writes all n bytes to fd, retrying short writes and EINTR. 0, or -1 with
 * errno set. (The state file and the keyring rewrite both need it.) */
int hsa_write_all(int fd, const void *p, size_t n);

#endif /* HSA_BUF_H */
