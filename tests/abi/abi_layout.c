/*
 * abi_layout.c — prints the binary layout of the public header it is
 * compiled against: struct sizes and field offsets, enum values, error
 * codes and constants, one "kind name value" line each.
 *
 * Built twice, against tests/abi/v0.1/hearsay.h (the header as released)
 * and against include/hearsay.h (the current one); abi_compare.py then
 * holds the two to the rules at the top of hearsay.h. Only names present
 * in the released header are listed, so the same source compiles against
 * both.
 */
#include <stddef.h>
#include <stdio.h>

#include "hearsay.h"

#define SIZE(kind, t) printf("%s %s %zu\n", kind, #t, sizeof(t))
#define OFF(t, f) printf("offset %s.%s %zu\n", #t, #f, offsetof(t, f))
#define CONST(c) printf("const %s %lld\n", #c, (long long)(c))

int main(void)
{
    /* Allocated by programs or indexed as arrays: sizes frozen. */
    SIZE("frozen", hs_join_status);
    SIZE("frozen", hs_key_info);
    SIZE("frozen", hs_member);
    SIZE("frozen", hs_tag);
    /* Handed out by pointer: may grow at the end. */
    SIZE("grows", hs_event);
    SIZE("grows", hs_member_list);
    SIZE("grows", hs_option);
    SIZE("grows", hs_stat_info);

    OFF(hs_join_status, seeds);
    OFF(hs_join_status, joined);
    OFF(hs_join_status, joined_after_ms);
    OFF(hs_join_status, failed_rounds);
    OFF(hs_join_status, reason);
    OFF(hs_key_info, key);
    OFF(hs_key_info, id);
    OFF(hs_key_info, primary);
    OFF(hs_member, name);
    OFF(hs_member, addr);
    OFF(hs_member, generation);
    OFF(hs_member, state);
    OFF(hs_member, heartbeat);
    OFF(hs_member, phi);
    OFF(hs_member, state_age_ms);
    OFF(hs_member, is_self);
    OFF(hs_member, n_tags);
    OFF(hs_member, tags);
    OFF(hs_tag, key);
    OFF(hs_tag, value);
    OFF(hs_tag, value_len);
    OFF(hs_member_list, count);
    OFF(hs_member_list, members);
    OFF(hs_event, type);
    OFF(hs_event, name);
    OFF(hs_event, addr);
    OFF(hs_event, generation);
    OFF(hs_event, state);
    OFF(hs_event, key);
    OFF(hs_event, deleted);
    OFF(hs_event, local);
    OFF(hs_option, name);
    OFF(hs_option, type);
    OFF(hs_option, metavar);
    OFF(hs_option, help);
    OFF(hs_option, dflt);
    OFF(hs_option, min);
    OFF(hs_option, max);
    OFF(hs_option, min_double);
    OFF(hs_option, max_double);
    OFF(hs_option, choices);
    OFF(hs_stat_info, name);
    OFF(hs_stat_info, kind);
    OFF(hs_stat_info, index);
    OFF(hs_stat_info, len);
    OFF(hs_stat_info, unit);
    OFF(hs_stat_info, help);

#define ERR_(name, val, msg) CONST(HS_##name);
    HS_ERRNO_MAP(ERR_)
#undef ERR_
    CONST(HS_STATE_ALIVE);
    CONST(HS_STATE_SUSPECT);
    CONST(HS_STATE_DEAD);
    CONST(HS_STATE_LEFT);
    CONST(HS_EVENT_JOIN);
    CONST(HS_EVENT_UPDATE);
    CONST(HS_EVENT_SUSPECT);
    CONST(HS_EVENT_RECOVER);
    CONST(HS_EVENT_FAIL);
    CONST(HS_EVENT_LEAVE);
    CONST(HS_EVENT_RESTART);
    CONST(HS_EVENT_REAP);
    CONST(HS_EVENT_CONFLICT);
    CONST(HS_MODE_PUSH_PULL);
    CONST(HS_MODE_PULL);
    CONST(HS_MODE_PUSH);
    CONST(HS_LOG_ERROR);
    CONST(HS_LOG_WARN);
    CONST(HS_LOG_INFO);
    CONST(HS_LOG_DEBUG);
    CONST(HS_OPT_STR);
    CONST(HS_OPT_ADDR);
    CONST(HS_OPT_UINT);
    CONST(HS_OPT_MS);
    CONST(HS_OPT_DOUBLE);
    CONST(HS_OPT_ENUM);
    CONST(HS_STAT_COUNTER);
    CONST(HS_STAT_GAUGE);
    CONST(HS_STAT_SCALAR);
    CONST(HS_STAT_BY_MSG);
    CONST(HS_STAT_BY_REASON);
    CONST(HS_STAT_BY_EVENT);
    CONST(HS_MSG_TYPES);
    CONST(HS_ADDRSTRLEN);
    CONST(HS_SEAL_BYTES);
    CONST(HS_KEYS_MAX);
    CONST(HS_KEY_TEXT_LEN);
    CONST(HS_KEY_ID_LEN);
    CONST(HS_NAME_MAX);
    CONST(HS_KEY_MAX);
    CONST(HS_VALUE_MAX);
    CONST(HS_DATAGRAM_MIN);
    CONST(HS_DATAGRAM_MAX);
    CONST(HS_SEEDS_MAX);
    CONST(HS_CALLBACKS_MAX);
    return 0;
}
