/*
 * fast_config.c — see fast_config.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fast_config.h"

hs_config *fast_config(const char *name, const char *cluster, uint64_t seed)
{
    hs_config *cfg = NULL;
    assert_int_equal(hs_config_new(&cfg), HS_OK);
    assert_int_equal(hs_config_set_str(cfg, "name", name), HS_OK);
    assert_int_equal(hs_config_set_str(cfg, "cluster", cluster), HS_OK);
    assert_int_equal(hs_config_set_str(cfg, "bind", "127.0.0.1:0"), HS_OK);
    assert_int_equal(hs_config_set_uint(cfg, "gossip-interval", 100), HS_OK);
    assert_int_equal(hs_config_set_uint(cfg, "heartbeat-interval", 100), HS_OK);
    assert_int_equal(hs_config_set_uint(cfg, "dead-after", 500), HS_OK);
    assert_int_equal(hs_config_set_uint(cfg, "seed", seed), HS_OK);
    return cfg;
}
