/* armprof.c: a qemu TCG plugin that writes, per translated block executed, "vaddr simd ldst branch other execs"
   (instruction classes as ../shared/armcount/insn.c counts them); bench/armprof/armprof.sh maps blocks to symbols. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "qemu-plugin-min.h"
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
typedef struct rec { uint64_t vaddr; uint32_t n[4]; uint64_t execs; struct rec *next; } rec;
static rec *head;
static int classify(uint32_t w)
{
    uint32_t op0 = (w >> 25) & 0xf;
    if ((op0 & 0x7) == 0x7) return 0;
    if ((op0 & 0x5) == 0x4) return 1;
    if ((op0 & 0xe) == 0xa) return 2;
    return 3;
}
static void exec(unsigned int vcpu, void *udata) { __atomic_fetch_add(&((rec*)udata)->execs, 1, __ATOMIC_RELAXED); }
static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    rec *r = calloc(1, sizeof *r);
    r->vaddr = qemu_plugin_tb_vaddr(tb);
    size_t insns = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < insns; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint32_t w = 0;
        if (qemu_plugin_insn_size(insn) == 4) memcpy(&w, qemu_plugin_insn_data(insn), 4);
        r->n[classify(w)]++;
    }
    r->next = head; head = r;   /* single-threaded enough for one inference thread */
    qemu_plugin_register_vcpu_tb_exec_cb(tb, exec, QEMU_PLUGIN_CB_NO_REGS, r);
}
static void at_exit(qemu_plugin_id_t id, void *p)
{
    const char *f = getenv("PROF_OUT"); FILE *o = fopen(f ? f : "/tmp/prof.txt", "w");
    for (rec *r = head; r; r = r->next) if (r->execs)
        fprintf(o, "%llx %u %u %u %u %llu\n", (unsigned long long)r->vaddr, r->n[0], r->n[1], r->n[2], r->n[3], (unsigned long long)r->execs);
    fclose(o);
}
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
