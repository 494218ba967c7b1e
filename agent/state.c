/*
 * state.c — hearsayd's state file: the last generation used per member
 * name (see state.h for why it exists).
 *
 * Why it is written before the node sends anything, and durably: a
 * generation that went out on the wire and was not recorded could be
 * handed out again after a crash and a clock step, which is the very
 * thing the file is for. Why a bad file is an error and not "start from
 * the clock": silently ignoring it would bring back the invisible-restart
 * failure without a word; the operator fixes or removes the file (removing
 * it is a deliberate "trust the clock").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/buf.h"
#include "agent/state.h"

#define STATE_FORMAT 1

/* The generations object of a parsed document, after checking every entry
 * (not only ours: a damaged file is reported whoever reads it). */
static json_t *checked_generations(json_t *doc, const char *where, char *err,
                                   size_t errlen)
{
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "%s: not a JSON object", where);
        return NULL;
    }
    json_t *fmt = json_object_get(doc, "format");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != STATE_FORMAT) {
        snprintf(err, errlen, "%s: \"format\" must be %d", where, STATE_FORMAT);
        return NULL;
    }
    json_t *gens = json_object_get(doc, "generations");
    if (!json_is_object(gens)) {
        snprintf(err, errlen, "%s: \"generations\" must be an object", where);
        return NULL;
    }
    if (json_object_size(gens) > HSA_STATE_MAX_NAMES) {
        snprintf(err, errlen, "%s: more than %d names", where,
                 HSA_STATE_MAX_NAMES);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(gens, k, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            (uint64_t)json_integer_value(v) >= HSA_STATE_MAX_GEN) {
            snprintf(err, errlen,
                     "%s: generation of \"%.100s\" is not an integer in "
                     "1..2^62-1",
                     where, k);
            return NULL;
        }
    }
    return gens;
}

static json_t *parse_doc(const char *text, size_t len, const char *where,
                         char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(err, errlen, "%s: line %d column %d: %s", where, je.line,
                 je.column, je.text);
        return NULL;
    }
    if (!checked_generations(doc, where, err, errlen)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

hsa_state_rc hsa_state_parse(const char *text, size_t len, const char *name,
                             uint64_t *last, const char *where, char *err,
                             size_t errlen)
{
    *last = 0;
    json_t *doc = parse_doc(text, len, where, err, errlen);
    if (!doc)
        return HSA_STATE_BAD;
    json_t *g = json_object_get(json_object_get(doc, "generations"), name);
    if (g)
        *last = (uint64_t)json_integer_value(g);
    json_decref(doc);
    return HSA_STATE_OK;
}

/* Reads path into a new document; a missing file is an empty one. */
static hsa_state_rc load(const char *path, json_t **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        *out = json_pack("{s:i,s:{}}", "format", STATE_FORMAT, "generations");
        if (!*out) {
            snprintf(err, errlen, "out of memory");
            return HSA_STATE_WRITE;
        }
        return HSA_STATE_OK;
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return HSA_STATE_BAD;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > HSA_STATE_MAX_BYTES) {
        snprintf(err, errlen, "%s: not a regular file of at most %d bytes",
                 path, HSA_STATE_MAX_BYTES);
        close(fd);
        return HSA_STATE_BAD;
    }
    char *text = malloc((size_t)st.st_size + 1);
    if (!text) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return HSA_STATE_BAD;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    hsa_state_rc rc = HSA_STATE_BAD;
    if (got != (size_t)st.st_size)
        snprintf(err, errlen, "%s: short read", path);
    else if ((*out = parse_doc(text, got, path, err, errlen)) != NULL)
        rc = HSA_STATE_OK;
    free(text);
    return rc;
}

/* tmp + fsync + rename + fsync(dir): the file is the old one or the new
 * one after a crash at any point, never a torn mix. */
static hsa_state_rc save(int dfd, const char *path, json_t *doc, char *err,
                         size_t errlen)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return HSA_STATE_WRITE;
    }
    char tmp[4096 + 16];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    hsa_state_rc rc = HSA_STATE_WRITE;
    if (len < 0 || (size_t)len >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        goto out;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) < 0 || hsa_write_all(fd, text, strlen(text)) < 0 ||
        hsa_write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (fsync(dfd) < 0) {
        snprintf(err, errlen, "cannot sync the directory of %s: %s", path,
                 strerror(errno));
        goto out;
    }
    rc = HSA_STATE_OK;
out:
    free(text);
    return rc;
}

/* mkdir -p dir, new directories mode 0700. */
static int make_dirs(const char *dir)
{
    char p[4096];
    int n = snprintf(p, sizeof p, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = p + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return -1;
        *c = '/';
    }
    return mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

hsa_state_rc hsa_state_next_generation(const char *dir, const char *name,
                                       uint64_t now_ms, uint64_t *gen,
                                       uint64_t *last, char *err, size_t errlen)
{
    *gen = *last = 0;
    if (make_dirs(dir) < 0) {
        snprintf(err, errlen, "data dir %s: cannot create it: %s", dir,
                 strerror(errno));
        return HSA_STATE_WRITE;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(err, errlen, "data dir %s: %s", dir, strerror(errno));
        return HSA_STATE_BAD;
    }
    if (flock(dfd, LOCK_EX) < 0) {
        snprintf(err, errlen, "data dir %s: cannot lock it: %s", dir,
                 strerror(errno));
        close(dfd);
        return HSA_STATE_BAD;
    }
    char path[4096];
    int plen = snprintf(path, sizeof path, "%s/%s", dir, HSA_STATE_FILE);
    json_t *doc = NULL;
    hsa_state_rc rc = HSA_STATE_BAD;
    if (plen < 0 || (size_t)plen >= sizeof path) {
        snprintf(err, errlen, "data dir %s: path too long", dir);
        goto out;
    }
    if ((rc = load(path, &doc, err, errlen)) != HSA_STATE_OK)
        goto out;
    json_t *gens = json_object_get(doc, "generations");
    json_t *g = json_object_get(gens, name);
    if (g)
        *last = (uint64_t)json_integer_value(g);
    if (!g && json_object_size(gens) >= HSA_STATE_MAX_NAMES) {
        snprintf(err, errlen, "%s: already holds %d names", path,
                 HSA_STATE_MAX_NAMES);
        rc = HSA_STATE_BAD;
        goto out;
    }
    uint64_t next = *last + 1 > now_ms ? *last + 1 : now_ms;
    if (next >= HSA_STATE_MAX_GEN) {
        snprintf(err, errlen, "%s: the generation of \"%s\" would reach 2^62",
                 path, name);
        rc = HSA_STATE_BAD;
        goto out;
    }
    if (json_object_set_new(gens, name, json_integer((json_int_t)next)) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = HSA_STATE_WRITE;
        goto out;
    }
    if ((rc = save(dfd, path, doc, err, errlen)) == HSA_STATE_OK)
        *gen = next;
out:
    json_decref(doc);
    flock(dfd, LOCK_UN);
    close(dfd);
    return rc;
}
