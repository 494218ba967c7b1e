/* test_errors.c — the error table and version functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hearsay.h"

static void every_code_has_a_distinct_message_and_name(void **state)
{
    (void)state;
    for (int a = HS_ERR_LAST_ + 1; a <= 0; a++) {
        assert_string_not_equal(hs_strerror(a), "unknown error");
        assert_string_not_equal(hs_err_name(a), "EUNKNOWN");
        for (int b = a + 1; b <= 0; b++) {
            assert_string_not_equal(hs_strerror(a), hs_strerror(b));
            assert_string_not_equal(hs_err_name(a), hs_err_name(b));
        }
    }
}

static void unknown_codes_are_reported_as_such(void **state)
{
    (void)state;
    assert_string_equal(hs_strerror(1), "unknown error");
    assert_string_equal(hs_strerror(HS_ERR_LAST_), "unknown error");
    assert_string_equal(hs_err_name(-1000), "EUNKNOWN");
    assert_string_equal(hs_err_name(HS_ETRUNCATED), "ETRUNCATED");
}

static void version_matches_the_macros(void **state)
{
    (void)state;
    assert_int_equal(hs_version(), HS_VERSION_HEX);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", HS_VERSION_MAJOR, HS_VERSION_MINOR,
             HS_VERSION_PATCH);
    assert_string_equal(hs_version_string(), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_distinct_message_and_name),
        cmocka_unit_test(unknown_codes_are_reported_as_such),
        cmocka_unit_test(version_matches_the_macros),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
