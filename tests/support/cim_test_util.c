/* cim_test_util.c -- shared helpers of the cmocka suites (see the header).
 *
 * The generator is splitmix64 (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): one 64-bit state, a Weyl
 * increment and a finaliser. It only makes test data; it is deliberately not
 * the Philox stream the simulator uses.
 */
#include "cim_test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cim_reference.h"

/* sqrt(2 / pi); M_PI is not in strict C11 + POSIX. */
#define SQRT_2_OVER_PI 0.79788456080286535588

cim_test_rng cim_test_rng_init(uint64_t seed)
{
    cim_test_rng r = {seed};
    return r;
}

uint64_t cim_test_rng_next(cim_test_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int32_t cim_test_rng_int(cim_test_rng *r, int32_t lo, int32_t hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    /* The modulo bias is below 2^-32 for the spans used here. */
    return (int32_t)((int64_t)lo + (int64_t)(cim_test_rng_next(r) % span));
}

void cim_test_random_values(cim_test_rng *r, cim_mapping_id id, int8_t *out, size_t n)
{
    const int ternary = cim_mapping_desc_of(id)->ternary;
    for (size_t i = 0; i < n; ++i) {
        if (ternary)
            out[i] = (int8_t)cim_test_rng_int(r, -1, 1);
        else
            out[i] = (int8_t)(cim_test_rng_int(r, 0, 1) ? 1 : -1);
    }
}

void cim_test_fill(int8_t *out, size_t n, int8_t v)
{
    memset(out, (unsigned char)v, n);
}

cim_xbar cim_test_xbar_inf(cim_mapping_id id, int32_t xbar_m, int32_t xbar_n, int32_t hrs_na,
                           int32_t lrs_na)
{
    cim_xbar x;
    memset(&x, 0, sizeof x);
    x.mapping = id;
    x.xbar_m = xbar_m;
    x.xbar_n = xbar_n;
    x.current_na[CIM_STATE_HRS] = hrs_na;
    x.current_na[CIM_STATE_LRS] = lrs_na;
    x.column.mapping = id;
    x.column.digital = 0;
    x.column.hrs = hrs_na;
    x.column.delta = (int64_t)lrs_na - hrs_na;
    x.column.adc_type = CIM_ADC_INF;
    return x;
}

cim_xbar cim_test_xbar_digital(cim_mapping_id id, int32_t xbar_m, int32_t xbar_n)
{
    /* Digital mode ignores the cell currents (c = s); keep plausible ones. */
    cim_xbar x = cim_test_xbar_inf(id, xbar_m, xbar_n, 5000, 30000);
    x.column.digital = 1;
    x.column.hrs = 0;
    x.column.delta = 1;
    return x;
}

void cim_test_set_adc(cim_xbar *x, int32_t adc_type, int32_t bits, int64_t lo_na, int64_t hi_na)
{
    x->column.adc_type = adc_type;
    x->column.adc_steps = cim_adc_steps(adc_type, bits);
    x->column.adc_lo2 = 2 * lo_na;
    x->column.adc_hi2 = 2 * hi_na;
}

void cim_test_dot(const int8_t *w, int32_t rows, int32_t cols, const int8_t *in, int32_t n_inputs,
                  int32_t *out)
{
    for (int32_t i = 0; i < n_inputs; ++i) {
        for (int32_t m = 0; m < rows; ++m) {
            int32_t acc = 0;
            for (int32_t n = 0; n < cols; ++n)
                acc += w[(size_t)m * cols + n] * in[(size_t)i * cols + n];
            out[(size_t)i * rows + m] = acc;
        }
    }
}

int cim_test_count_mismatches(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                              const int8_t *in, int32_t n_inputs, const char *what)
{
    size_t n = (size_t)rows * n_inputs;
    int32_t *got = malloc(sizeof(int32_t) * n);
    int32_t *want = malloc(sizeof(int32_t) * n);
    int bad = 0;
    if (!got || !want || cim_reference_mvm(x, w, rows, cols, in, n_inputs, 0, 0, got, NULL)) {
        free(got);
        free(want);
        return -1;
    }
    cim_test_dot(w, rows, cols, in, n_inputs, want);
    for (size_t k = 0; k < n; ++k) {
        if (got[k] != want[k]) {
            if (bad < 5)
                print_error("%s %s (%dx%d on %dx%d): input %zu output %zu: got %d, W.x = %d\n",
                            cim_mapping_name(x->mapping), what, rows, cols, x->xbar_m, x->xbar_n,
                            k / rows, k % rows, got[k], want[k]);
            ++bad;
        }
    }
    free(got);
    free(want);
    return bad;
}

double cim_test_normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

double cim_test_two_sided_quantile(double p)
{
    /* Solve h(z) = log erfc(z / sqrt 2) - log p = 0 for z >= 0. h falls
     * monotonically; h'(z) = -sqrt(2/pi) exp(-z^2/2) / erfc(z / sqrt 2). A
     * Newton step that leaves the bracket [lo, hi] is replaced by bisection. */
    const double target = log(p);
    double lo = 0.0, hi = 40.0, z = 1.0;
    for (int it = 0; it < 200; ++it) {
        double t = erfc(z / sqrt(2.0));
        double h = log(t) - target;
        if (h > 0)
            lo = z;
        else
            hi = z;
        double dh = -SQRT_2_OVER_PI * exp(-0.5 * z * z) / t;
        double next = z - h / dh;
        if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi);
        if (fabs(next - z) <= 1e-15 * (1.0 + z))
            return next;
        z = next;
    }
    return z;
}

int cim_test_make_scratch_dir(char *buf, size_t n, const char *suite)
{
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(buf, n, "%s/cimgpu-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", suite);
    if (len < 0 || (size_t)len >= n)
        return -1;
    return mkdtemp(buf) ? 0 : -1;
}

void cim_test_remove_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            char inner[CIM_TEST_PATH_MAX];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (snprintf(inner, sizeof inner, "%s/%s", path, e->d_name) < (int)sizeof inner)
                cim_test_remove_tree(inner);
        }
        closedir(d);
    }
    remove(path);
}

char *cim_test_read_file_n(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    if (size)
        *size = (size_t)n;
    return text;
}

char *cim_test_read_file(const char *path)
{
    return cim_test_read_file_n(path, NULL);
}

void cim_test_write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s", path);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

void cim_test_write_text(const char *path, const char *text)
{
    cim_test_write_file(path, text, strlen(text));
}

void cim_test_assert_file_text(const char *path, const char *text)
{
    char *kept = cim_test_read_file(path);
    if (strcmp(kept, text) != 0)
        fail_msg("%s holds \"%s\", expected \"%s\"", path, kept, text);
    free(kept);
}

int cim_test_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int cim_test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            ++n;
    closedir(d);
    return n;
}

void cim_test_assert_i64_eq(int64_t actual, int64_t expected, const char *expr, const char *file,
                            int line)
{
    if (actual != expected) {
        print_error("%s = %lld, expected %lld\n", expr, (long long)actual, (long long)expected);
        _fail(file, line);
    }
}

void cim_test_assert_near(double actual, double expected, double tol, const char *expr,
                          const char *file, int line)
{
    if (!(fabs(actual - expected) <= tol)) {
        print_error("%s = %.9g, expected %.9g +- %.3g (off by %.3g)\n", expr, actual, expected, tol,
                    actual - expected);
        _fail(file, line);
    }
}

int cim_test_open_device(cim_ocl *ocl, int *have_device, const char *suite)
{
    cim_error err = {0, ""};
    *have_device = cim_ocl_open(ocl, NULL, &err) == 0;
    if (*have_device)
        return 0;
    fprintf(stderr, "%s: %s\n", suite, err.msg);
    return err.code == CIM_ERR_NODEVICE ? 0 : -1;
}

int cim_test_open_device_styled(cim_ocl *ocl, int *have_device, const char *suite,
                                const char *vector_width, int gpu_style)
{
    if (vector_width)
        setenv("CIMGPU_VECTOR_WIDTH", vector_width, 1);
    else
        unsetenv("CIMGPU_VECTOR_WIDTH");
    const int rc = cim_test_open_device(ocl, have_device, suite);
    unsetenv("CIMGPU_VECTOR_WIDTH");
    if (*have_device && gpu_style)
        ocl->cpu_style = 0;
    return rc;
}

int cim_test_device_setup(void **state, const char *suite)
{
    cim_test_device *f = calloc(1, sizeof *f);
    *state = f;
    return f ? cim_test_open_device(&f->ocl, &f->have_device, suite) : -1;
}

int cim_test_device_teardown(void **state)
{
    cim_test_device *f = *state;
    if (f && f->have_device)
        cim_ocl_close(&f->ocl);
    free(f);
    return 0;
}

int cim_test_scratch_setup(void **state, size_t size, const char *suite)
{
    cim_test_scratch *fx = calloc(1, size > sizeof *fx ? size : sizeof *fx);
    if (!fx || cim_test_make_scratch_dir(fx->dir, sizeof fx->dir, suite) != 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

int cim_test_scratch_teardown(void **state)
{
    cim_test_scratch *fx = *state;
    cim_test_remove_tree(fx->dir);
    free(fx);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cim_test_list_models(char **paths, int max)
{
    static const char dir_path[] = CIM_SOURCE_DIR "/data/models";
    DIR *dir = opendir(dir_path);
    struct dirent *e;
    int n = 0;
    if (!dir)
        return 0;
    while ((e = readdir(dir)) != NULL && n < max) {
        const size_t len = strlen(e->d_name);
        char path[CIM_TEST_PATH_MAX];
        if (len < 4 || strcmp(e->d_name + len - 3, ".h5") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        paths[n++] = strdup(path);
    }
    closedir(dir);
    qsort(paths, (size_t)n, sizeof *paths, by_name);
    return n;
}

cim_plan *cim_test_plan(const cim_model *m, const cim_config *cfg, uint64_t seed,
                        cim_pixel_layers pixels)
{
    cim_plan *p = malloc(sizeof *p);
    cim_error err = {0, ""};
    assert_non_null(p);
    if (cim_plan_init(p, m, cfg, seed, pixels, &err) != 0)
        fail_msg("%s", err.msg);
    return p;
}

void cim_test_plan_free(cim_plan *p)
{
    if (p)
        cim_plan_free(p);
    free(p);
}

const char *cim_test_path(char *buf, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, CIM_TEST_PATH_BUF, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < CIM_TEST_PATH_BUF);
    return buf;
}

void cim_test_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

void cim_test_assert_unchanged(const char *path, const char *before, size_t n_before)
{
    size_t n;
    char *now = cim_test_read_file_n(path, &n);
    if (n != n_before || memcmp(now, before, n) != 0)
        fail_msg("%s was changed", path);
    free(now);
}
