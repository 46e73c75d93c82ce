/*
 * dnnl_worker.c: the C peer of `./isthmus bench compare`, the floor for Isthmus's FFM overhead.
 *
 * It calls the same oneDNN convolution primitives as Isthmus's DnnlConv2dPlan, set up the same
 * way, straight from C: descriptors with dnnl_format_tag_any, user tensors in plain layout
 * (nchw, oihw / goihw, x), a reorder into or out of a buffer in the primitive's layout only where
 * the two differ, user scratchpad mode for the primitives and their reorders, backward-data and
 * backward-weights hinted by the forward, and backward-data with a plain diff_src for at most 4
 * input channels per group when a non-reference implementation takes it. Each call runs the
 * input reorders, the primitive, the output reorders, then waits on the stream: exactly the work
 * of one DnnlConv2dPlan call, without the JVM.
 *
 * Not a benchmark by itself: a worker that reads one command a line on stdin and answers one JSON
 * line on stdout, so that `isthmus bench compare` can alternate it with Isthmus and PyTorch in one
 * run. Times are measured here (clock_gettime, CLOCK_MONOTONIC) and exclude process start-up.
 *
 *   define NAME g mb ic ih iw oc kh kw sh sw pt pl pb pr   plan a problem (oneDNN conventions:
 *                                                          dilation 0, padding top/left/bottom/right)
 *                                                 -> {"ok":true,"fwd":impl,"bwd_d":impl,"bwd_w":impl}
 *   conv NAME fwd|bwd_d|bwd_w N                   -> {"ok":true,"seconds":total for N calls}
 *   check NAME PREFIX                             reads PREFIX.{src,weights,bias,diff_dst} (raw
 *                                                 little-endian float32), writes
 *                                                 PREFIX.c.{dst,diff_src,diff_weights,diff_bias}
 *                                                 -> {"ok":true}
 *   info                                          -> {"ok":true,"dnnl":"3.13.0 (git ...)","threads":2,...}
 *   quit
 *
 * Any failure answers {"ok":false,"error":"..."} naming the C function and the oneDNN status,
 * then exits 1. Threads: OpenMP's, set with OMP_NUM_THREADS by the caller.
 *
 * Built by `isthmus bench compare` with gcc against the headers of the natives jar and linked to
 * the libdnnl.so.3 Isthmus loads (see README.md in this folder):
 *   gcc -O2 -std=c11 -I INCLUDE dnnl_worker.c -o dnnl_worker -L LIBDIR -l:libdnnl.so.3 -l:libgomp.so.1 -Wl,-rpath,LIBDIR
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oneapi/dnnl/dnnl.h"

int omp_get_max_threads(void);   /* libgomp, beside libdnnl.so.3 */

#define MAX_PROBLEMS 64
#define MAX_ARGS 4

static void fail(const char *what, const char *detail) {
    printf("{\"ok\":false,\"error\":\"%s: %s\"}\n", what, detail);
    fflush(stdout);
    exit(1);
}

static void check(dnnl_status_t s, const char *function) {
    if (s != dnnl_success) {
        char detail[64];
        snprintf(detail, sizeof detail, "status %d", (int) s);
        fail(function, detail);
    }
}

#define CHECK(call) check((call), #call)

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_primitive_attr_t attr;   /* user scratchpad mode: every primitive and reorder */

/* One user tensor of a call: plain memory over the user's buffer, and where the primitive wants
 * another layout, a buffer in that layout and the reorder between them. */
typedef struct {
    int arg, is_input;
    dnnl_memory_t user, direct;        /* direct == user when there is no reorder */
    dnnl_primitive_t reorder;          /* NULL when the layouts agree */
    dnnl_exec_arg_t reorder_args[3];
    int reorder_nargs;
} call_arg;

typedef struct {
    dnnl_primitive_t primitive;
    char impl[128];
    call_arg args[MAX_ARGS];
    int nargs;
    dnnl_exec_arg_t exec[MAX_ARGS + 1];
    int nexec;
} call;

typedef struct {
    char name[64];
    long mb, g, ic, ih, iw, oc, oh, ow, kh, kw;
    float *src, *weights, *bias, *dst, *diff_src, *diff_weights, *diff_bias, *diff_dst;
    long n_src, n_weights, n_dst;
    void *scratchpad;
    call fwd, bwd_d, bwd_w;
} problem;

static problem problems[MAX_PROBLEMS];
static int n_problems;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *aligned(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes < 64 ? 64 : bytes) != 0) fail("posix_memalign", "out of memory");
    memset(p, 0, bytes);
    return p;
}

static float *tensor(long n) { return aligned((size_t) n * sizeof(float)); }

static dnnl_memory_desc_t md(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t m;
    CHECK(dnnl_memory_desc_create_with_tag(&m, ndims, dims, dnnl_f32, tag));
    return m;
}

static const char *impl_of(const_dnnl_primitive_desc_t pd) {
    const char *s = NULL;
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s));
    return s;
}

static size_t scratchpad_bytes(const_dnnl_primitive_desc_t pd) {
    const_dnnl_memory_desc_t m = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return m == NULL ? 0 : dnnl_memory_desc_get_size(m);
}

/* Adds a user tensor to a call; reorders where the primitive's layout is not the plain one.
 * Returns the largest scratchpad the argument's reorder needs. */
static size_t add_arg(call *c, const_dnnl_primitive_desc_t pd, int arg, int is_input,
                      const_dnnl_memory_desc_t plain, void *data) {
    call_arg *a = &c->args[c->nargs++];
    a->arg = arg;
    a->is_input = is_input;
    const_dnnl_memory_desc_t chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    if (chosen == NULL) fail("dnnl_primitive_desc_query_md", "no memory for an argument");
    CHECK(dnnl_memory_create(&a->user, plain, engine, data));
    a->reorder = NULL;
    a->direct = a->user;
    if (dnnl_memory_desc_equal(chosen, plain)) return 0;
    CHECK(dnnl_memory_create(&a->direct, chosen, engine, aligned(dnnl_memory_desc_get_size(chosen))));
    dnnl_primitive_desc_t rpd;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, is_input ? plain : chosen, engine,
                                             is_input ? chosen : plain, engine, attr));
    size_t scratch = scratchpad_bytes(rpd);
    CHECK(dnnl_primitive_create(&a->reorder, rpd));
    a->reorder_args[0] = (dnnl_exec_arg_t) {DNNL_ARG_FROM, is_input ? a->user : a->direct};
    a->reorder_args[1] = (dnnl_exec_arg_t) {DNNL_ARG_TO, is_input ? a->direct : a->user};
    a->reorder_nargs = 2;
    if (scratch > 0) {
        /* the scratchpad memory is created in finish(), once its buffer exists */
        a->reorder_args[2] = (dnnl_exec_arg_t) {DNNL_ARG_SCRATCHPAD, NULL};
        a->reorder_nargs = 3;
    }
    CHECK(dnnl_primitive_desc_destroy(rpd));
    return scratch;
}

static void start_call(call *c, dnnl_primitive_desc_t pd) {
    memset(c, 0, sizeof *c);
    snprintf(c->impl, sizeof c->impl, "%s", impl_of(pd));
    CHECK(dnnl_primitive_create(&c->primitive, pd));
}

/* Points the call's and its reorders' scratchpads at the problem's buffer; fills exec args. */
static void finish(call *c, const_dnnl_primitive_desc_t pd, void *scratchpad) {
    for (int i = 0; i < c->nargs; i++) {
        call_arg *a = &c->args[i];
        c->exec[i] = (dnnl_exec_arg_t) {a->arg, a->direct};
        if (a->reorder_nargs == 3) {
            const_dnnl_primitive_desc_t rpd;
            CHECK(dnnl_primitive_get_primitive_desc(a->reorder, &rpd));
            dnnl_memory_t m;
            CHECK(dnnl_memory_create(&m, dnnl_primitive_desc_query_md(rpd, dnnl_query_scratchpad_md, 0), engine, scratchpad));
            a->reorder_args[2].memory = m;
        }
    }
    c->nexec = c->nargs;
    if (scratchpad_bytes(pd) > 0) {
        dnnl_memory_t m;
        CHECK(dnnl_memory_create(&m, dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), engine, scratchpad));
        c->exec[c->nexec++] = (dnnl_exec_arg_t) {DNNL_ARG_SCRATCHPAD, m};
    }
}

/* Reorders in, executes, reorders out, waits: one DnnlConv2dPlan call. */
static void run(call *c) {
    for (int i = 0; i < c->nargs; i++) {
        call_arg *a = &c->args[i];
        if (a->reorder && a->is_input) CHECK(dnnl_primitive_execute(a->reorder, stream, a->reorder_nargs, a->reorder_args));
    }
    CHECK(dnnl_primitive_execute(c->primitive, stream, c->nexec, c->exec));
    for (int i = 0; i < c->nargs; i++) {
        call_arg *a = &c->args[i];
        if (a->reorder && !a->is_input) CHECK(dnnl_primitive_execute(a->reorder, stream, a->reorder_nargs, a->reorder_args));
    }
    CHECK(dnnl_stream_wait(stream));
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

static void fill(float *x, long n, unsigned *state) {
    for (long i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        x[i] = (float) ((*state >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
    }
}

static void define(char *line) {
    problem *p = &problems[n_problems];
    long v[15];
    char name[64];
    if (sscanf(line, "define %63s %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", name,
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13]) != 15) {
        fail("define", "expected: define NAME g mb ic ih iw oc kh kw sh sw pt pl pb pr");
    }
    if (n_problems == MAX_PROBLEMS) fail("define", "too many problems");
    for (int i = 0; i < n_problems; i++) {
        if (strcmp(problems[i].name, name) == 0) fail("define", "problem defined twice");
    }
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    long g = v[0], mb = v[1], ic = v[2], ih = v[3], iw = v[4], oc = v[5], kh = v[6], kw = v[7];
    long sh = v[8], sw = v[9], pt = v[10], pl = v[11], pb = v[12], pr = v[13];
    long oh = (ih + pt + pb - kh) / sh + 1, ow = (iw + pl + pr - kw) / sw + 1;
    p->mb = mb; p->g = g; p->ic = ic; p->ih = ih; p->iw = iw; p->oc = oc; p->oh = oh; p->ow = ow; p->kh = kh; p->kw = kw;
    p->n_src = mb * ic * ih * iw;
    p->n_dst = mb * oc * oh * ow;
    p->n_weights = oc * (ic / g) * kh * kw;
    p->src = tensor(p->n_src); p->diff_src = tensor(p->n_src);
    p->dst = tensor(p->n_dst); p->diff_dst = tensor(p->n_dst);
    p->weights = tensor(p->n_weights); p->diff_weights = tensor(p->n_weights);
    p->bias = tensor(oc); p->diff_bias = tensor(oc);
    unsigned state = 12345u;
    fill(p->src, p->n_src, &state);
    fill(p->weights, p->n_weights, &state);
    fill(p->bias, oc, &state);
    fill(p->diff_dst, p->n_dst, &state);

    dnnl_dims_t src_dims = {mb, ic, ih, iw}, dst_dims = {mb, oc, oh, ow}, bias_dims = {oc};
    dnnl_dims_t w_dims = {oc, ic, kh, kw}, gw_dims = {g, oc / g, ic / g, kh, kw};
    int w_ndims = g == 1 ? 4 : 5;
    dnnl_format_tag_t w_tag = g == 1 ? dnnl_abcd : dnnl_abcde;
    dnnl_memory_desc_t src_any = md(4, src_dims, dnnl_format_tag_any), dst_any = md(4, dst_dims, dnnl_format_tag_any);
    dnnl_memory_desc_t w_any = md(w_ndims, g == 1 ? w_dims : gw_dims, dnnl_format_tag_any);
    dnnl_memory_desc_t src_plain = md(4, src_dims, dnnl_abcd), dst_plain = md(4, dst_dims, dnnl_abcd);
    dnnl_memory_desc_t w_plain = md(w_ndims, g == 1 ? w_dims : gw_dims, w_tag);
    dnnl_memory_desc_t bias = md(1, bias_dims, dnnl_a);
    dnnl_dims_t strides = {sh, sw}, dilates = {0, 0}, pad_l = {pt, pl}, pad_r = {pb, pr};

    dnnl_primitive_desc_t fwd, bwd_d = NULL, bwd_w;
    CHECK(dnnl_convolution_forward_primitive_desc_create(&fwd, engine, dnnl_forward_training, dnnl_convolution_direct,
            src_any, w_any, bias, dst_any, strides, dilates, pad_l, pad_r, attr));
    /* As DnnlConv2dPlan: with at most 4 input channels per group and a plain forward src, a plain
     * diff_src for backward-data when an optimized implementation takes it. */
    if (ic / g <= 4 && dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(fwd, dnnl_query_exec_arg_md, DNNL_ARG_SRC), src_plain)) {
        dnnl_primitive_desc_t candidate;
        if (dnnl_convolution_backward_data_primitive_desc_create(&candidate, engine, dnnl_convolution_direct,
                src_plain, w_any, dst_any, strides, dilates, pad_l, pad_r, fwd, attr) == dnnl_success) {
            if (strstr(impl_of(candidate), "ref") == NULL) bwd_d = candidate;
            else CHECK(dnnl_primitive_desc_destroy(candidate));
        }
    }
    if (bwd_d == NULL) {
        CHECK(dnnl_convolution_backward_data_primitive_desc_create(&bwd_d, engine, dnnl_convolution_direct,
                src_any, w_any, dst_any, strides, dilates, pad_l, pad_r, fwd, attr));
    }
    CHECK(dnnl_convolution_backward_weights_primitive_desc_create(&bwd_w, engine, dnnl_convolution_direct,
            src_any, w_any, bias, dst_any, strides, dilates, pad_l, pad_r, fwd, attr));

    size_t scratch = max_size(max_size(scratchpad_bytes(fwd), scratchpad_bytes(bwd_d)), scratchpad_bytes(bwd_w));
    start_call(&p->fwd, fwd);
    scratch = max_size(scratch, add_arg(&p->fwd, fwd, DNNL_ARG_SRC, 1, src_plain, p->src));
    scratch = max_size(scratch, add_arg(&p->fwd, fwd, DNNL_ARG_WEIGHTS, 1, w_plain, p->weights));
    scratch = max_size(scratch, add_arg(&p->fwd, fwd, DNNL_ARG_DST, 0, dst_plain, p->dst));
    scratch = max_size(scratch, add_arg(&p->fwd, fwd, DNNL_ARG_BIAS, 1, bias, p->bias));
    start_call(&p->bwd_d, bwd_d);
    scratch = max_size(scratch, add_arg(&p->bwd_d, bwd_d, DNNL_ARG_DIFF_SRC, 0, src_plain, p->diff_src));
    scratch = max_size(scratch, add_arg(&p->bwd_d, bwd_d, DNNL_ARG_WEIGHTS, 1, w_plain, p->weights));
    scratch = max_size(scratch, add_arg(&p->bwd_d, bwd_d, DNNL_ARG_DIFF_DST, 1, dst_plain, p->diff_dst));
    start_call(&p->bwd_w, bwd_w);
    scratch = max_size(scratch, add_arg(&p->bwd_w, bwd_w, DNNL_ARG_SRC, 1, src_plain, p->src));
    scratch = max_size(scratch, add_arg(&p->bwd_w, bwd_w, DNNL_ARG_DIFF_WEIGHTS, 0, w_plain, p->diff_weights));
    scratch = max_size(scratch, add_arg(&p->bwd_w, bwd_w, DNNL_ARG_DIFF_DST, 1, dst_plain, p->diff_dst));
    scratch = max_size(scratch, add_arg(&p->bwd_w, bwd_w, DNNL_ARG_DIFF_BIAS, 0, bias, p->diff_bias));
    p->scratchpad = aligned(scratch);
    finish(&p->fwd, fwd, p->scratchpad);
    finish(&p->bwd_d, bwd_d, p->scratchpad);
    finish(&p->bwd_w, bwd_w, p->scratchpad);
    /* primitives keep what they need; descriptors are no longer used */
    CHECK(dnnl_primitive_desc_destroy(fwd));
    CHECK(dnnl_primitive_desc_destroy(bwd_d));
    CHECK(dnnl_primitive_desc_destroy(bwd_w));
    n_problems++;
    printf("{\"ok\":true,\"fwd\":\"%s\",\"bwd_d\":\"%s\",\"bwd_w\":\"%s\"}\n", p->fwd.impl, p->bwd_d.impl, p->bwd_w.impl);
}

static problem *find(const char *name) {
    for (int i = 0; i < n_problems; i++) {
        if (strcmp(problems[i].name, name) == 0) return &problems[i];
    }
    fail("unknown problem (define it first)", name);
    return NULL;
}

static call *pass(problem *p, const char *name) {
    if (strcmp(name, "fwd") == 0) return &p->fwd;
    if (strcmp(name, "bwd_d") == 0) return &p->bwd_d;
    if (strcmp(name, "bwd_w") == 0) return &p->bwd_w;
    fail("unknown pass (expected fwd, bwd_d or bwd_w)", name);
    return NULL;
}

static void conv(char *line) {
    char name[64], which[16];
    long n;
    if (sscanf(line, "conv %63s %15s %ld", name, which, &n) != 3 || n <= 0) fail("conv", "expected: conv NAME fwd|bwd_d|bwd_w N");
    call *c = pass(find(name), which);
    double t0 = now();
    for (long i = 0; i < n; i++) run(c);
    double seconds = now() - t0;
    printf("{\"ok\":true,\"seconds\":%.9f}\n", seconds);
}

static void read_file(const char *prefix, const char *suffix, float *x, long n) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%s", prefix, suffix);
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail("cannot open", path);
    if (fread(x, sizeof(float), (size_t) n, f) != (size_t) n) fail("short file", path);
    fclose(f);
}

static void write_file(const char *prefix, const char *suffix, const float *x, long n) {
    char path[4096];
    snprintf(path, sizeof path, "%s.c.%s", prefix, suffix);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(x, sizeof(float), (size_t) n, f) != (size_t) n || fclose(f) != 0) fail("cannot write", path);
}

static void check_problem(char *line) {
    char name[64], prefix[4000];
    if (sscanf(line, "check %63s %3999s", name, prefix) != 2) fail("check", "expected: check NAME PREFIX");
    problem *p = find(name);
    read_file(prefix, "src", p->src, p->n_src);
    read_file(prefix, "weights", p->weights, p->n_weights);
    read_file(prefix, "bias", p->bias, p->oc);
    read_file(prefix, "diff_dst", p->diff_dst, p->n_dst);
    run(&p->fwd);
    run(&p->bwd_d);
    run(&p->bwd_w);
    write_file(prefix, "dst", p->dst, p->n_dst);
    write_file(prefix, "diff_src", p->diff_src, p->n_src);
    write_file(prefix, "diff_weights", p->diff_weights, p->n_weights);
    write_file(prefix, "diff_bias", p->diff_bias, p->oc);
    printf("{\"ok\":true}\n");
}

static void info(void) {
    const dnnl_version_t *v = dnnl_version();
    printf("{\"ok\":true,\"dnnl\":\"%d.%d.%d (git %s)\",\"threads\":%d,\"cpu_runtime\":%d}\n",
           v->major, v->minor, v->patch, v->hash, omp_get_max_threads(), (int) v->cpu_runtime);
}

int main(void) {
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    char line[8192];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "define ", 7) == 0) define(line);
        else if (strncmp(line, "conv ", 5) == 0) conv(line);
        else if (strncmp(line, "check ", 6) == 0) check_problem(line);
        else if (strcmp(line, "info") == 0) info();
        else if (strcmp(line, "quit") == 0) break;
        else if (line[0] != 0) fail("unknown command", "expected define, conv, check, info or quit");
        fflush(stdout);
    }
    return 0;
}
