/*
 * test_agent_files.c — the files hearsayd reads and writes beside its
 * options: keyring text and files (agent/keyring.c: parsing, refusing bad
 * lines with their line number, saving with mode 0600), the HTTP token,
 * and the --data-dir state file that gives each start a higher generation
 * (agent/state.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "agent/config.h"
#include "agent/keyring.h"
#include "agent/state.h"

static char err[512];

static const char *K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static const char *K2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

static int ring(const char *text)
{
    char keys[HS_KEYS_MAX][HS_KEY_TEXT_LEN];
    size_t n = 99;
    err[0] = '\0';
    int rc = hsa_keyring_parse(text, strlen(text), keys, &n, err, sizeof err);
    return rc < 0 ? -1 : (int)n;
}

static void test_keyring_text(void **state)
{
    char text[2048];
    snprintf(text, sizeof text, "# keys\n\n  %s \t\r\n%s\n", K1, K2);
    assert_int_equal(ring(text), 2);
    snprintf(text, sizeof text, "%s", K1); /* no final newline */
    assert_int_equal(ring(text), 1);

    snprintf(text, sizeof text, "%s\n# ok\nAAAA\n", K1);
    assert_int_equal(ring(text), -1);
    assert_non_null(strstr(err, "line 3: not a base64 32-byte key"));
    snprintf(text, sizeof text, "%s\n%s\n\n%s\n", K1, K2, K1);
    assert_int_equal(ring(text), -1);
    assert_non_null(strstr(err, "line 4: the same key as line 1"));
    /* 44 characters that are not base64 of 32 bytes. */
    assert_int_equal(ring("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=\n"),
                     -1);
    assert_int_equal(ring("# only a comment\n\n"), -1);
    assert_non_null(strstr(err, "no key"));
    /* 17 distinct keys: one too many. */
    text[0] = '\0';
    for (int i = 0; i < 17; i++) {
        char k[HS_KEY_TEXT_LEN];
        assert_int_equal(hs_key_generate(k, sizeof k), HS_OK);
        strcat(text, k);
        strcat(text, "\n");
    }
    assert_int_equal(ring(text), -1);
    assert_non_null(strstr(err, "line 17: more than 16 keys"));

    assert_int_equal(hsa_token_check("0123456789abcdef", 16), 0);
    assert_int_equal(hsa_token_check("0123456789abcde", 15), -1);
    assert_int_equal(hsa_token_check("0123456789 abcdef", 17), -1);
}

static void test_keyring_files(void **state)
{
    char dir[] = "/tmp/hs_ring_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/ring", dir);
    hs_key_info keys[2] = {{.primary = 1}, {.primary = 0}};
    snprintf(keys[0].key, sizeof keys[0].key, "%s", K2);
    snprintf(keys[1].key, sizeof keys[1].key, "%s", K1);
    assert_int_equal(hsa_keyring_save(path, keys, 2, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    char back[HS_KEYS_MAX][HS_KEY_TEXT_LEN];
    size_t n = 0;
    assert_int_equal(hsa_keyring_load(path, back, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(back[0], K2); /* the primary first */
    assert_string_equal(back[1], K1);

    /* Readable by others: refused, saying how to fix it. */
    chmod(path, 0644);
    assert_int_equal(hsa_keyring_load(path, back, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(hsa_keyring_save(path, keys, 0, err, sizeof err), -1);

    /* Token files: the first line, trimmed. */
    char tpath[128], token[HSA_TOKEN_MAX + 1];
    snprintf(tpath, sizeof tpath, "%s/token", dir);
    FILE *f = fopen(tpath, "w");
    assert_non_null(f);
    fputs("\n  0123456789abcdef0123  \nsecond line\n", f);
    fclose(f);
    chmod(tpath, 0600);
    assert_int_equal(
        hsa_token_load(tpath, token, sizeof token, err, sizeof err), 0);
    assert_string_equal(token, "0123456789abcdef0123");
    chmod(tpath, 0660);
    assert_int_equal(
        hsa_token_load(tpath, token, sizeof token, err, sizeof err), -1);
    unlink(tpath);
    unlink(path);
    rmdir(dir);
}

/* The state file: what is accepted, what is refused, and that the next
 * generation never goes back whatever the clock says. */
static void test_state_file(void **unused)
{
    (void)unused;
    uint64_t last = 7;
    const char *ok = "{\"format\":1,\"generations\":{\"a\":5,\"b\":9}}";
    assert_int_equal(
        hsa_state_parse(ok, strlen(ok), "a", &last, "f", err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(last, 5);
    assert_int_equal(
        hsa_state_parse(ok, strlen(ok), "zz", &last, "f", err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(last, 0);
    static const char *const bad[] = {
        "",
        "garbage",
        "[]",
        "{}",
        "{\"format\":2,\"generations\":{}}",
        "{\"format\":1}",
        "{\"format\":1,\"generations\":[]}",
        "{\"format\":1,\"generations\":{\"a\":\"5\"}}",
        "{\"format\":1,\"generations\":{\"a\":0}}",
        "{\"format\":1,\"generations\":{\"a\":-3}}",
        "{\"format\":1,\"generations\":{\"a\":4611686018427387904}}",
        "{\"format\":1,\"generations\":{\"a\":1,\"a\":2}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(hsa_state_parse(bad[i], strlen(bad[i]), "a", &last,
                                         "f", err, sizeof err),
                         HSA_STATE_BAD);
        assert_non_null(strstr(err, "f"));
    }

    char dir[] = "/tmp/hs-state-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64], path[96];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    snprintf(path, sizeof path, "%s/%s", sub, HSA_STATE_FILE);
    uint64_t gen = 0;
    /* First run: the clock; the parent directories are made. */
    assert_int_equal(
        hsa_state_next_generation(sub, "n", 1000, &gen, &last, err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(gen, 1000);
    assert_int_equal(last, 0);
    /* The clock went back: last + 1. The clock moved on: the clock. */
    assert_int_equal(
        hsa_state_next_generation(sub, "n", 10, &gen, &last, err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(gen, 1001);
    assert_int_equal(last, 1000);
    assert_int_equal(
        hsa_state_next_generation(sub, "n", 1001, &gen, &last, err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(gen, 1002);
    assert_int_equal(
        hsa_state_next_generation(sub, "m", 5000, &gen, &last, err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(
        hsa_state_next_generation(sub, "n", 9000, &gen, &last, err, sizeof err),
        HSA_STATE_OK);
    assert_int_equal(gen, 9000);
    assert_int_equal(last, 1002);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A damaged file is refused and left as it is. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"format\":1,\"generations\":{\"n\":", f);
    fclose(f);
    assert_int_equal(
        hsa_state_next_generation(sub, "n", 9999, &gen, &last, err, sizeof err),
        HSA_STATE_BAD);
    assert_non_null(strstr(err, path));
    assert_int_equal(gen, 0);
    /* A data dir that is a file. */
    char notdir[96];
    snprintf(notdir, sizeof notdir, "%s/state.json", sub);
    assert_int_not_equal(
        hsa_state_next_generation(notdir, "n", 1, &gen, &last, err, sizeof err),
        HSA_STATE_OK);
    unlink(path);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyring_text),
        cmocka_unit_test(test_keyring_files),
        cmocka_unit_test(test_state_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
