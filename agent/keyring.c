/*
 * keyring.c — hearsayd's secret files (see keyring.h): the keyring, read
 * at start and rewritten after every rotation over HTTP, and the HTTP
 * token.
 *
 * The keyring format is the library's (one base64 key per line, the first
 * the primary), parsed here with the public API only (hs_key_id() both
 * validates a key and names it), so errors can name the line and the
 * daemon never prints a key. Rewrites are atomic (temporary file, fsync,
 * rename, fsync of the directory) because a torn keyring would leave a
 * restarted node unable to talk to its cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/buf.h"
#include "agent/json.h"
#include "agent/keyring.h"

void hsa_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* ---- Reading ------------------------------------------------------------ */

/* Reads a secret file of at most max bytes into a NUL-terminated malloc'd
 * buffer, refusing anything group or others may read or write. */
static int read_secret(const char *path, const char *what, size_t max,
                       char **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", what, path);
        goto fail;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "%s %s: group or others may access it (mode %04o); it holds "
                 "a secret: chmod 600 %s",
                 what, path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    if ((size_t)st.st_size > max) {
        snprintf(err, errlen, "%s %s: larger than %zu bytes", what, path, max);
        goto fail;
    }
    buf = malloc(max + 2);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, max + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > max) {
            snprintf(err, errlen, "%s %s: larger than %zu bytes", what, path,
                     max);
            goto fail;
        }
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
fail:
    if (buf) {
        hsa_wipe(buf, max + 2);
        free(buf);
    }
    close(fd);
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int hsa_keyring_parse(const char *text, size_t len,
                      char (*keys)[HS_KEY_TEXT_LEN], size_t *n, char *err,
                      size_t errlen)
{
    int lines[HS_KEYS_MAX];
    char ids[HS_KEYS_MAX][HS_KEY_ID_LEN];
    size_t pos = 0;
    int lineno = 0;
    *n = 0;
    if (len > HSA_KEYRING_MAX_TEXT) {
        snprintf(err, errlen, "larger than %d bytes", HSA_KEYRING_MAX_TEXT);
        return -1;
    }
    while (pos < len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        lineno++;
        size_t a = pos, b = eol;
        pos = eol + 1;
        while (a < b && is_space(text[a]))
            a++;
        while (b > a && is_space(text[b - 1]))
            b--;
        if (a == b || text[a] == '#')
            continue;
        char id[HS_KEY_ID_LEN];
        if (b - a != HS_KEY_TEXT_LEN - 1) {
            snprintf(err, errlen,
                     "line %d: not a base64 32-byte key (44 characters, as "
                     "`hearsay keygen` prints)",
                     lineno);
            return -1;
        }
        if (*n == HS_KEYS_MAX) {
            snprintf(err, errlen, "line %d: more than %d keys", lineno,
                     HS_KEYS_MAX);
            return -1;
        }
        char *slot = keys[*n];
        memcpy(slot, text + a, b - a);
        slot[b - a] = '\0';
        if (hs_key_id(slot, id, sizeof id) != HS_OK) {
            hsa_wipe(slot, HS_KEY_TEXT_LEN);
            snprintf(err, errlen,
                     "line %d: not a base64 32-byte key (44 characters, as "
                     "`hearsay keygen` prints)",
                     lineno);
            return -1;
        }
        for (size_t i = 0; i < *n; i++) {
            if (strcmp(ids[i], id) == 0) {
                hsa_wipe(slot, HS_KEY_TEXT_LEN);
                snprintf(err, errlen, "line %d: the same key as line %d",
                         lineno, lines[i]);
                return -1;
            }
        }
        memcpy(ids[*n], id, sizeof id);
        lines[*n] = lineno;
        (*n)++;
    }
    if (*n == 0) {
        snprintf(err, errlen,
                 "no key in it (one base64 key per line; "
                 "`hearsay keygen` makes one)");
        return -1;
    }
    return 0;
}

int hsa_keyring_load(const char *path, char (*keys)[HS_KEY_TEXT_LEN], size_t *n,
                     char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    *n = 0;
    if (read_secret(path, "keyring", HSA_KEYRING_MAX_TEXT, &text, &len, err,
                    errlen) < 0)
        return -1;
    char why[256];
    int rc = hsa_keyring_parse(text, len, keys, n, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "keyring %s: %s", path, why);
        hsa_wipe(keys, HS_KEYS_MAX * HS_KEY_TEXT_LEN);
        *n = 0;
    }
    hsa_wipe(text, len);
    free(text);
    return rc;
}

/* ---- Rewriting ---------------------------------------------------------- */

int hsa_keyring_save(const char *path, const hs_key_info *keys, size_t n,
                     char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "refusing to write an empty keyring");
        return -1;
    }
    char tmp[4096 + 16];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (len < 0 || (size_t)len >= sizeof tmp) {
        snprintf(err, errlen, "keyring path too long");
        return -1;
    }
    char when[40];
    hsa_time_iso(when, sizeof when);
    char text[HSA_KEYRING_MAX_TEXT];
    int off = snprintf(text, sizeof text,
                       "# hearsay keyring, rewritten by hearsayd at %s.\n"
                       "# One base64 key per line: the first seals, every "
                       "one opens. Keep it mode 0600.\n",
                       when);
    for (size_t i = 0; i < n && off > 0 && (size_t)off < sizeof text; i++)
        off += snprintf(text + off, sizeof text - (size_t)off, "%s\n",
                        keys[i].key);
    if (off < 0 || (size_t)off >= sizeof text) {
        hsa_wipe(text, sizeof text);
        snprintf(err, errlen, "keyring text too long");
        return -1;
    }
    /* mkstemp creates the file with mode 0600. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        hsa_wipe(text, sizeof text);
        snprintf(err, errlen, "cannot rewrite keyring %s: %s", path,
                 strerror(errno));
        return -1;
    }
    int rc = -1;
    if (fchmod(fd, 0600) < 0 || hsa_write_all(fd, text, (size_t)off) < 0 ||
        fsync(fd) < 0) {
        snprintf(err, errlen, "cannot rewrite keyring %s: %s", path,
                 strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot rewrite keyring %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        goto out;
    }
    /* The rename is durable once the directory is. */
    char dir[sizeof tmp];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    hsa_wipe(text, sizeof text);
    return rc;
}

/* ---- The HTTP token ----------------------------------------------------- */

int hsa_token_check(const char *token, size_t len)
{
    if (len < HSA_TOKEN_MIN || len > HSA_TOKEN_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)token[i] < 0x21 || (unsigned char)token[i] > 0x7e)
            return -1;
    return 0;
}

int hsa_token_load(const char *path, char *token, size_t cap, char *err,
                   size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    if (read_secret(path, "token file", 4096, &text, &len, err, errlen) < 0)
        return -1;
    size_t a = 0;
    while (a < len && (is_space(text[a]) || text[a] == '\n'))
        a++;
    size_t b = a;
    while (b < len && text[b] != '\n')
        b++;
    while (b > a && is_space(text[b - 1]))
        b--;
    int rc = -1;
    if (hsa_token_check(text + a, b - a) < 0 || b - a >= cap)
        snprintf(err, errlen,
                 "token file %s: the token must be %d..%d printable ASCII "
                 "characters without spaces (e.g. `hearsay keygen` output)",
                 path, HSA_TOKEN_MIN, HSA_TOKEN_MAX);
    else {
        memcpy(token, text + a, b - a);
        token[b - a] = '\0';
        rc = 0;
    }
    hsa_wipe(text, len);
    free(text);
    return rc;
}
