/* test_csv.c -- the integer CSV reader: accepted layouts, each way a file can
 * be wrong (with the path and line in the message), and hostile input that
 * must neither crash nor be truncated silently. Files live in a mkdtemp
 * folder created by the group fixture.
 */
#include "cim_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cim_csv.h"

typedef struct csv_fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX]; /* first: cim_test_scratch */
} csv_fixture;

static int make_folder(void **state)
{
    return cim_test_scratch_setup(state, sizeof(csv_fixture), "csv");
}

/* Writes `len` bytes to a file `name` in the fixture folder; its path into `path`. */
static void write_file(void **state, const char *name, const void *bytes, size_t len, char *path)
{
    csv_fixture *fx = *state;
    snprintf(path, CIM_TEST_PATH_MAX, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_text(void **state, const char *name, const char *text, char *path)
{
    write_file(state, name, text, strlen(text), path);
}

/* Reads `text` as a file and checks it gives rows x cols values `want`. */
static void expect_matrix(void **state, const char *text, int32_t rows, int32_t cols,
                          const int8_t *want)
{
    char path[CIM_TEST_PATH_MAX];
    write_text(state, "good.csv", text, path);
    int8_t *data = NULL;
    int32_t r = -1, c = -1;
    cim_error err = {0};
    int rc = cim_csv_read_int8(path, &data, &r, &c, &err);
    if (rc)
        fail_msg("text \"%s\" rejected: %s", text, err.msg);
    assert_int_equal(r, rows);
    assert_int_equal(c, cols);
    assert_non_null(data);
    assert_memory_equal(data, want, (size_t)rows * (size_t)cols);
    free(data);
}

/* Reads `path`; checks the code, that the message is exactly `want` and that
 * nothing is returned (cim_csv.h: *data NULL, *rows and *cols 0). */
static void expect_read_error(const char *path, int code, const char *want)
{
    int8_t *data = (int8_t *)&data; /* must be reset */
    int32_t r = -1, c = -1;
    cim_error err = {0};
    int rc = cim_csv_read_int8(path, &data, &r, &c, &err);
    if (rc != code || strcmp(err.msg, want) != 0)
        fail_msg("got %s \"%s\", expected %s \"%s\"", cim_error_name(rc), err.msg,
                 cim_error_name(code), want);
    assert_null(data);
    assert_int_equal(r, 0);
    assert_int_equal(c, 0);
}

/* Reads bytes as a file; checks the code and that the message is exactly
 * "<path><suffix>". */
static void expect_error_bytes(void **state, const void *bytes, size_t len, int code,
                               const char *suffix)
{
    char path[CIM_TEST_PATH_MAX];
    write_file(state, "bad.csv", bytes, len, path);
    char want[CIM_ERROR_MSG_MAX + CIM_TEST_PATH_MAX];
    snprintf(want, sizeof want, "%s%s", path, suffix);
    expect_read_error(path, code, want);
}

static void expect_error(void **state, const char *text, const char *suffix)
{
    expect_error_bytes(state, text, strlen(text), CIM_ERR_INPUT, suffix);
}

/* ---------------------------------------------------------------------------
 * Good files
 */

static void test_plain_matrix(void **state)
{
    static const int8_t want[] = {1, -1, 0, 1, 1, -1, -1, 0, 1};
    expect_matrix(state, "1,-1,0\n1,1,-1\n-1,0,1\n", 3, 3, want);
}

static void test_spaces_crlf_and_missing_final_newline(void **state)
{
    static const int8_t want[] = {1, -1, 0, 1, 1, -1};
    expect_matrix(state, " 1 ,\t-1,  0\r\n1,1 , -1", 2, 3, want);
    expect_matrix(state, "1,-1,0\r\n1,1,-1\r\n", 2, 3, want);
    expect_matrix(state, "+1,-1,0\n1,+1,-1\n", 2, 3, want);
}

static void test_blank_lines_at_the_ends_ignored(void **state)
{
    static const int8_t want[] = {1, 2, 3, 4};
    expect_matrix(state, "1,2\n3,4\n\n  \n\r\n", 2, 2, want);
    expect_matrix(state, "\n\n1,2\n3,4\n", 2, 2, want);
}

static void test_extremes_single_value_and_bom(void **state)
{
    static const int8_t extremes[] = {-128, 127, 0, -0};
    expect_matrix(state, "-128,127\n000,-0\n", 2, 2, extremes);
    static const int8_t one[] = {7};
    expect_matrix(state, "7", 1, 1, one);
    static const int8_t bom[] = {1, -1};
    expect_matrix(state,
                  "\xEF\xBB\xBF"
                  "1,-1\n",
                  1, 2, bom);
}

static void test_long_line_read_whole(void **state)
{
    enum { N_VALUES = 200000 }; /* a 600 KB line, longer than any fixed buffer */
    char *text = malloc(3 * N_VALUES + 2);
    int8_t *want = malloc(N_VALUES);
    assert_non_null(text);
    assert_non_null(want);
    size_t used = 0;
    for (int i = 0; i < N_VALUES; ++i) {
        want[i] = (int8_t)(i % 3 - 1);
        used += (size_t)sprintf(text + used, i ? ",%d" : "%d", want[i]);
    }
    text[used++] = '\n';
    text[used] = '\0';
    expect_matrix(state, text, 1, N_VALUES, want);
    free(text);
    free(want);
}

/* ---------------------------------------------------------------------------
 * Errors
 */

static void test_cannot_open(void **state)
{
    csv_fixture *fx = *state;
    char path[CIM_TEST_PATH_MAX], want[CIM_ERROR_MSG_MAX + CIM_TEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/missing.csv", fx->dir);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    expect_read_error(path, CIM_ERR_INPUT, want);

    /* a folder opens but cannot be read */
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", fx->dir);
    expect_read_error(fx->dir, CIM_ERR_INPUT, want);
}

static void test_empty_file(void **state)
{
    expect_error(state, "", ": empty file, expected lines of comma-separated integers");
    expect_error(state, "\n \n\t\r\n", ": empty file, expected lines of comma-separated integers");
}

static void test_ragged_rows(void **state)
{
    expect_error(state, "1,2,3,4\n1,2,3,4\n1,2,3,4,5\n",
                 ":3: line 3 has 5 values, expected 4 (as on line 1)");
    expect_error(state, "\n1,2\n3\n", ":3: line 3 has 1 value, expected 2 (as on line 2)");
}

static void test_non_integer_tokens_quoted(void **state)
{
    expect_error(state, "1,2\n3,abc\n", ":2:3: \"abc\" is not an integer");
    expect_error(state, "1,2.5\n", ":1:3: \"2.5\" is not an integer");
    expect_error(state, "1, 2 3\n", ":1:4: \"2 3\" is not an integer");
    expect_error(state, "1,-\n", ":1:3: \"-\" is not an integer");
    expect_error(state, "1;2\n", ":1:1: \"1;2\" is not an integer");
    expect_error(state, "0x10\n", ":1:1: \"0x10\" is not an integer");
    expect_error(state, "1,,2\n", ":1:3: empty value, expected an integer");
    expect_error(state, "1,2,\n", ":1:5: empty value, expected an integer");
    expect_error(state, ",1\n", ":1:1: empty value, expected an integer");
    /* non-printable bytes are escaped, long tokens shortened */
    expect_error(state, "1,\"x\\\x01\n", ":1:3: \"\\x22x\\x5c\\x01\" is not an integer");
    expect_error(state, "1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                 ":1:3: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not an integer");
}

static void test_values_out_of_range(void **state)
{
    expect_error(state, "1,128\n", ":1:3: value \"128\" is outside -128..127");
    expect_error(state, "1,2\n-129,0\n", ":2:1: value \"-129\" is outside -128..127");
    expect_error(state, "99999999999999999999999999\n",
                 ":1:1: value \"99999999999999999999999999\" is outside -128..127");
}

static void test_blank_line_inside_data(void **state)
{
    expect_error(state, "1,2\n\n3,4\n",
                 ":2: blank line inside the data (the next row is on line 3)");
}

static void test_binary_garbage_rejected_without_crash(void **state)
{
    static const unsigned char nul_inside[] = {'1', ',', '2', 0, '3', '\n'};
    expect_error_bytes(state, nul_inside, sizeof nul_inside, CIM_ERR_INPUT,
                       ":1:3: \"2\\x003\" is not an integer");
    /* pseudo-random bytes (a fixed LCG, so the test is repeatable) */
    enum { N_BYTES = 1 << 16 };
    unsigned char *junk = malloc(N_BYTES);
    assert_non_null(junk);
    uint32_t s = 12345;
    for (int i = 0; i < N_BYTES; ++i) {
        s = s * 1664525u + 1013904223u; /* Numerical Recipes LCG */
        junk[i] = (unsigned char)(s >> 24);
    }
    char path[CIM_TEST_PATH_MAX];
    write_file(state, "junk.csv", junk, N_BYTES, path);
    int8_t *data;
    int32_t r, c;
    cim_error err = {0};
    assert_int_equal(cim_csv_read_int8(path, &data, &r, &c, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, path));
    assert_null(strchr(err.msg, '\n'));
    assert_null(data);
    free(junk);
}

/* More than 2^26 values: 65537 lines of 1024 zeros (128 MiB of text). */
static void test_absurd_size_rejected(void **state)
{
    enum { PER_LINE = 1024 };
    const long lines = (long)(CIM_CSV_MAX_VALUES / PER_LINE) + 1;
    csv_fixture *fx = *state;
    char path[CIM_TEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/huge.csv", fx->dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    char line[2 * PER_LINE];
    for (int i = 0; i < PER_LINE; ++i) {
        line[2 * i] = '0';
        line[2 * i + 1] = i + 1 < PER_LINE ? ',' : '\n';
    }
    for (long i = 0; i < lines; ++i)
        assert_int_equal(fwrite(line, 1, sizeof line, f), sizeof line);
    assert_int_equal(fclose(f), 0);
    char want[CIM_ERROR_MSG_MAX + CIM_TEST_PATH_MAX];
    snprintf(want, sizeof want,
             "%s:%ld: more than 67108864 values: too large for a weight or input file", path,
             lines);
    expect_read_error(path, CIM_ERR_INPUT, want);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_matrix),
        cmocka_unit_test(test_spaces_crlf_and_missing_final_newline),
        cmocka_unit_test(test_blank_lines_at_the_ends_ignored),
        cmocka_unit_test(test_extremes_single_value_and_bom),
        cmocka_unit_test(test_long_line_read_whole),
        cmocka_unit_test(test_cannot_open),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_ragged_rows),
        cmocka_unit_test(test_non_integer_tokens_quoted),
        cmocka_unit_test(test_values_out_of_range),
        cmocka_unit_test(test_blank_line_inside_data),
        cmocka_unit_test(test_binary_garbage_rejected_without_crash),
        cmocka_unit_test(test_absurd_size_rejected),
    };
    return cmocka_run_group_tests(tests, make_folder, cim_test_scratch_teardown);
}
