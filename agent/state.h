/*
 * state.h — hearsayd's state file (--data-dir DIR): the last generation
 * used for each member name, so a restart never reuses a lower one.
 * Private to agent/.
 *
 * The library takes the wall clock in ms as the generation unless told
 * otherwise. Peers keep the highest generation they have seen for a name
 * and ignore lower ones, so a clock stepped back across a restart (a bad
 * RTC, NTP not yet synced, a VM restored from a snapshot) would make the
 * restarted node invisible until its old incarnation is reaped. With a
 * data dir, hearsayd uses max(clock_ms, last + 1) and records it in
 * DIR/state.json before it sends anything:
 *
 *     {"format": 1, "generations": {"db-1": 1795473811667}}
 */
#ifndef HSA_STATE_H
#define HSA_STATE_H

#include <stddef.h>
#include <stdint.h>

/* The file inside the data dir. */
#define HSA_STATE_FILE "state.json"
/* Bounds, so a damaged or hostile file cannot ask for unbounded memory. */
#define HSA_STATE_MAX_BYTES (256 * 1024)
#define HSA_STATE_MAX_NAMES 1024
/* The core refuses generations from 2^62 on. */
#define HSA_STATE_MAX_GEN ((uint64_t)1 << 62)

typedef enum hsa_state_rc {
    HSA_STATE_OK = 0,
    HSA_STATE_BAD = -1,   /* the file exists but cannot be read or used */
    HSA_STATE_WRITE = -2, /* it could not be written (disk full, ...) */
} hsa_state_rc;

/* The last generation the state document text[0..len) records for name,
 * or 0 if none. HSA_STATE_OK, or HSA_STATE_BAD with a message in err
 * (`where` names the file in it). */
hsa_state_rc hsa_state_parse(const char *text, size_t len, const char *name,
                             uint64_t *last, const char *where, char *err,
                             size_t errlen);

/* The generation this run of `name` uses: max(now_ms, last + 1), with last
 * read from dir/state.json (created with dir if missing), and recorded
 * there (written to a temporary file, fsynced, renamed over, directory
 * fsynced) before it returns; other names' entries are kept. *last gets
 * the previous value (0: none). The read-modify-write holds an exclusive
 * lock on dir, so daemons sharing a data dir do not lose each other's
 * entries. */
hsa_state_rc hsa_state_next_generation(const char *dir, const char *name,
                                       uint64_t now_ms, uint64_t *gen,
                                       uint64_t *last, char *err,
                                       size_t errlen);

#endif /* HSA_STATE_H */
