/* cim_test_util.h -- helpers shared by the cmocka suites under tests/.
 *
 * - A tiny deterministic generator (splitmix64) for test matrices and inputs,
 *   so every suite draws the same "random" data on every machine. It is not
 *   the simulator's RNG (that is Philox, kernels/cim_rng.h); keeping them apart
 *   means a bug in one cannot hide in the other.
 * - cim_xbar built by hand for the two noise-free modes every mapping must get
 *   exactly right: digital (c = s) and analog with an ideal (INF) ADC.
 * - Plain W·x, the answer those modes must reproduce.
 * - Assertions with readable messages for integers and doubles (cmocka 1.1
 *   prints integers in hex and has no double comparison).
 * - Scratch files: a fresh folder per suite, a whole file read into memory,
 *   and removal of a folder with everything in it.
 *
 * Every function here is pure C on the host; nothing touches OpenCL.
 */
#ifndef CIM_TEST_UTIL_H
#define CIM_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cim_mapping.h"
#include "cim_ocl.h"
#include "cim_plan.h"
#include "cim_xbar.h"

/* ---- deterministic test data ---- */

typedef struct cim_test_rng {
    uint64_t state;
} cim_test_rng;

cim_test_rng cim_test_rng_init(uint64_t seed);
uint64_t cim_test_rng_next(cim_test_rng *r);
/* Uniform integer in [lo, hi] (hi - lo < 2^32). */
int32_t cim_test_rng_int(cim_test_rng *r, int32_t lo, int32_t hi);

/* n values drawn uniformly from the alphabet of the mapping: {-1,+1} for
 * BNN, {-1,0,+1} for TNN. */
void cim_test_random_values(cim_test_rng *r, cim_mapping_id id, int8_t *out, size_t n);
void cim_test_fill(int8_t *out, size_t n, int8_t v);

/* ---- crossbars built by hand ---- */

/* Digital mode: column.digital = 1, HRS = 0, Delta = 1, no variability. */
cim_xbar cim_test_xbar_digital(cim_mapping_id id, int32_t xbar_m, int32_t xbar_n);

/* Analog, noise free, ideal (INF) ADC, cell currents hrs_na / lrs_na (nA). */
cim_xbar cim_test_xbar_inf(cim_mapping_id id, int32_t xbar_m, int32_t xbar_n, int32_t hrs_na,
                           int32_t lrs_na);

/* Finite ADC on an existing crossbar: type CIM_ADC_POS/SYM, `bits`, range
 * [lo_na, hi_na] in nA (stored in half-units). */
void cim_test_set_adc(cim_xbar *x, int32_t adc_type, int32_t bits, int64_t lo_na, int64_t hi_na);

/* ---- plain arithmetic ---- */

/* out[i * rows + m] = sum_n w[m * cols + n] * in[i * cols + n]. */
void cim_test_dot(const int8_t *w, int32_t rows, int32_t cols, const int8_t *in, int32_t n_inputs,
                  int32_t *out);

/* Runs cim_reference_mvm (trial 0, inputs keyed from 0) and W·x and returns the
 * number of results that differ; the first few differences are printed with
 * `what` as a label. -1 when out of memory. */
int cim_test_count_mismatches(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                              const int8_t *in, int32_t n_inputs, const char *what);

/* Standard normal CDF and upper tail, in double (erfc based). */
double cim_test_normal_cdf(double z);
/* |z| with P(|Z| > |z|) = p, 0 < p <= 1, to double precision (safeguarded
 * Newton on log erfc; independent of tools/gen_gauss_table.py's bisection). */
double cim_test_two_sided_quantile(double p);

/* ---- scratch files ---- */

#define CIM_TEST_PATH_MAX 1024 /* bytes of any path the suites build */

/* Makes a fresh folder "$TMPDIR/cimgpu-test-<suite>-XXXXXX" (TMPDIR unset:
 * /tmp) and writes its path to buf (n bytes). 0, or -1 with errno set. */
int cim_test_make_scratch_dir(char *buf, size_t n, const char *suite);

/* Removes a file, or a folder with everything in it; silent when the path
 * does not exist. */
void cim_test_remove_tree(const char *path);

/* cmocka group fixtures of suites that write files. The suite's fixture
 * struct starts with `char dir[CIM_TEST_SCRATCH_DIR_MAX]` (any members may
 * follow): setup allocates `size` zeroed bytes, makes the scratch folder
 * (cim_test_make_scratch_dir) and stores the struct in *state; teardown
 * removes the folder and frees the struct. */
#define CIM_TEST_SCRATCH_DIR_MAX 256 /* well below CIM_TEST_PATH_MAX */
typedef struct cim_test_scratch {
    char dir[CIM_TEST_SCRATCH_DIR_MAX];
} cim_test_scratch;
int cim_test_scratch_setup(void **state, size_t size, const char *suite);
int cim_test_scratch_teardown(void **state);

/* A scratch path and a suffix fit in this many bytes. */
#define CIM_TEST_PATH_BUF (2 * CIM_TEST_PATH_MAX)

/* snprintf into buf (CIM_TEST_PATH_BUF bytes), failing the test rather than
 * cutting; returns buf. */
const char *cim_test_path(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void cim_test_sleep_ms(long ms);

/* The file at path still holds exactly the n_before bytes of `before`. */
void cim_test_assert_unchanged(const char *path, const char *before, size_t n_before);

/* The whole file at `path`, malloc'd and NUL-terminated (bytes after an
 * embedded NUL are kept but hidden from string functions). Fails the test
 * when the file cannot be read. */
char *cim_test_read_file(const char *path);

/* The same, with its length in *n. */
char *cim_test_read_file_n(const char *path, size_t *n);

/* Writes n bytes (or the text) as the whole file at `path`; fails the test
 * when it cannot. */
void cim_test_write_file(const char *path, const void *bytes, size_t n);
void cim_test_write_text(const char *path, const char *text);

/* Fails the test unless the file at `path` holds exactly `text`. */
void cim_test_assert_file_text(const char *path, const char *text);

/* Is there a name `path` (lstat: a dangling link counts)? */
int cim_test_exists(const char *path);

/* How many names the folder holds (without . and ..). */
int cim_test_count_entries(const char *dir);

/* ---- assertions with decimal messages ---- */

void cim_test_assert_i64_eq(int64_t actual, int64_t expected, const char *expr, const char *file,
                            int line);
void cim_test_assert_near(double actual, double expected, double tol, const char *expr,
                          const char *file, int line);

#define CIM_ASSERT_I64_EQ(actual, expected)                                                        \
    cim_test_assert_i64_eq((int64_t)(actual), (int64_t)(expected), #actual, __FILE__, __LINE__)
/* |actual - expected| <= tol */
#define CIM_ASSERT_NEAR(actual, expected, tol)                                                     \
    cim_test_assert_near((double)(actual), (double)(expected), (double)(tol), #actual, __FILE__,   \
                         __LINE__)

/* ---- OpenCL device and shipped models ---- */

/* Opens the default OpenCL device for a suite's group fixture: *have_device
 * = 1 and 0 on success; with no OpenCL device at all, *have_device = 0 and
 * 0 (the suite's tests skip()); a device whose kernels do not build: -1 (the
 * group fails). The reason is printed on stderr. */
int cim_test_open_device(cim_ocl *ocl, int *have_device, const char *suite);

/* As cim_test_open_device in a launch style: vector_width (NULL: the
 * device's own) as CIMGPU_VECTOR_WIDTH while opening, and with gpu_style
 * the GPU launch style (one column per work-item, columns fastest) even on
 * a CPU device. */
int cim_test_open_device_styled(cim_ocl *ocl, int *have_device, const char *suite,
                                const char *vector_width, int gpu_style);

/* Group fixtures of suites that run kernels and need nothing else: the
 * fixture is a cim_test_device (setup opens the device as above). */
typedef struct cim_test_device {
    cim_ocl ocl;
    int have_device;
} cim_test_device;
int cim_test_device_setup(void **state, const char *suite);
int cim_test_device_teardown(void **state);

/* The shipped models, data/models/\*.h5, sorted by name: up to `max` paths
 * (malloc'd, free each) into paths; returns how many. */
int cim_test_list_models(char **paths, int max);

/* The layer plan of m on cfg (cim_plan_init), malloc'd; fails the test on
 * error. cim_test_plan_free releases it. */
cim_plan *cim_test_plan(const cim_model *m, const cim_config *cfg, uint64_t seed,
                        cim_pixel_layers pixels);
void cim_test_plan_free(cim_plan *p);

#endif /* CIM_TEST_UTIL_H */
