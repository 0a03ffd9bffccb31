/*
 * A QEMU TCG plugin (plugin API of QEMU 7.2) that counts the guest instructions executed
 * inside windows:
 *
 *   -plugin libcounter.so,start=0xADDR,end=0xADDR[,out=PATH]
 *
 * A window opens when the instruction at `start` executes and closes when the instruction
 * at `end` executes; it counts the instructions from `start` (included) to `end`
 * (excluded). `start` executed again while a window is open counts as an instruction of
 * that window; `end` executed while none is open is ignored.
 *
 * Every other instruction adds one to a counter with an inline op (generated code, no
 * call); the two gate instructions get an exec callback instead, which reads that counter.
 * An inline op runs before its instruction, in program order, so the count is exact
 * wherever in a translation block the gates lie, and deterministic (it depends on the
 * guest's path only, not on how QEMU splits or re-translates blocks).
 *
 * At exit it prints to stderr, and to PATH if `out` is given, one line per window
 * (`window N: INSNS instructions`, N from 0), then
 * `total: INSNS instructions in W windows`. Written for one vCPU (Cortex-M).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* Instructions executed, gates not included (the inline ops add to it). */
static uint64_t executed;
static uint64_t start_addr, end_addr;
static gboolean open_window;
/* `executed` when the window opened, and the gate instructions the window holds. */
static uint64_t opened_at, gates_inside;
/* The closed windows' counts. */
static GArray *windows;
static char *out_path;
/* Opened when the plugin loads, so that a bad `out` stops QEMU before the run. */
static FILE *out_file;

static void on_start(unsigned int vcpu_index, void *udata)
{
    (void)vcpu_index;
    (void)udata;
    if (!open_window) {
        open_window = TRUE;
        opened_at = executed;
        gates_inside = 0;
    }
    gates_inside++;
}

static void on_end(unsigned int vcpu_index, void *udata)
{
    (void)vcpu_index;
    (void)udata;
    if (open_window) {
        uint64_t n = executed - opened_at + gates_inside;
        g_array_append_val(windows, n);
        open_window = FALSE;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        if (pc == start_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (pc == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (pc != start_addr && pc != end_addr) {
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
        }
    }
}

static void report(FILE *f)
{
    uint64_t total = 0;
    for (guint i = 0; i < windows->len; i++) {
        uint64_t n = g_array_index(windows, uint64_t, i);
        fprintf(f, "window %u: %" PRIu64 " instructions\n", i, n);
        total += n;
    }
    if (open_window) {
        fprintf(f, "window %u: %" PRIu64 " instructions (not closed at exit, left out of the total)\n",
                windows->len, executed - opened_at + gates_inside);
    }
    fprintf(f, "total: %" PRIu64 " instructions in %u windows\n", total, windows->len);
}

static void report_at_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    report(stderr);
    fflush(stderr);
    if (out_file) {
        report(out_file);
        if (fclose(out_file) != 0) {
            fprintf(stderr, "counter: cannot write %s: %s\n", out_path, strerror(errno));
        }
        out_file = NULL;
    }
}

static gboolean parse_addr(const char *text, uint64_t *addr)
{
    char *rest;
    errno = 0;
    *addr = g_ascii_strtoull(text, &rest, 0);
    return errno == 0 && rest != text && *rest == '\0';
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    gboolean have_start = FALSE, have_end = FALSE;
    if (info->system_emulation && info->system.max_vcpus > 1) {
        fprintf(stderr, "counter: counts one vCPU only, the machine has %d\n", info->system.max_vcpus);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        if (!eq) {
            fprintf(stderr, "counter: argument '%s' is not KEY=VALUE\n", arg);
            return -1;
        }
        size_t key_len = (size_t)(eq - arg);
        const char *value = eq + 1;
        if (key_len == 5 && strncmp(arg, "start", 5) == 0) {
            have_start = parse_addr(value, &start_addr);
            if (!have_start) {
                fprintf(stderr, "counter: bad address in '%s'\n", arg);
                return -1;
            }
        } else if (key_len == 3 && strncmp(arg, "end", 3) == 0) {
            have_end = parse_addr(value, &end_addr);
            if (!have_end) {
                fprintf(stderr, "counter: bad address in '%s'\n", arg);
                return -1;
            }
        } else if (key_len == 3 && strncmp(arg, "out", 3) == 0 && *value) {
            out_path = g_strdup(value);
        } else {
            fprintf(stderr, "counter: unknown argument '%s' (start=ADDR, end=ADDR, out=PATH)\n", arg);
            return -1;
        }
    }
    if (!have_start || !have_end) {
        fprintf(stderr, "counter: needs start=ADDR and end=ADDR\n");
        return -1;
    }
    if (start_addr == end_addr) {
        fprintf(stderr, "counter: start and end are the same address\n");
        return -1;
    }
    if (out_path) {
        out_file = fopen(out_path, "w");
        if (!out_file) {
            fprintf(stderr, "counter: cannot write %s: %s\n", out_path, strerror(errno));
            return -1;
        }
    }
    windows = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
