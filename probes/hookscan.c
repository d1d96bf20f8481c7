/* hookscan.c - the scanner behind `contend scan`: symbols name the hooks,
 * and Capstone counts the interpreter-lock calls that tell a harmful Cython
 * nogil-trace build from a harmless one (symbols alone cannot). */
#include "probes/hookscan.h"
#include "probes/hookshape.h"

#include <capstone/capstone.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef CONTEND_NO_LIBZIP
#include <zip.h>

/* A wheel member bigger than this is noted, not read: no real extension
 * module comes close, and it bounds what a hostile archive can make us
 * allocate. */
#define MAX_MEMBER_BYTES ((zip_uint64_t)1 << 30)
#endif

/* ---- kinds and symbol patterns ---------------------------------------- */

static const char *const kind_names[HK_NKINDS] = {
	[HK_CYTHON] = "cython",		[HK_INSTRUMENT] = "instrument",
	[HK_GPROF] = "gprof",		[HK_COVERAGE] = "coverage",
	[HK_SANITIZER] = "sanitizer",
};

const char *hook_kind_name(enum hook_kind k)
{
	return (unsigned)k < HK_NKINDS ? kind_names[k] : "?";
}

int hook_kinds_parse(const char *list, unsigned *mask, errbuf *e)
{
	unsigned m = 0;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		int found = 0;
		if (n == 3 && !strncmp(p, "any", 3)) {
			m |= HK_ALL | HS_FAIL_UNKNOWN;
			found = 1;
		}
		if (n == 7 && !strncmp(p, "unknown", 7)) {
			m |= HS_FAIL_UNKNOWN;
			found = 1;
		}
		for (int k = 0; k < HK_NKINDS && !found; k++)
			if (strlen(kind_names[k]) == n &&
			    !strncmp(p, kind_names[k], n)) {
				m |= HK_BIT(k);
				found = 1;
			}
		if (!found)
			return errf(e,
				    "unknown kind '%.*s' (kinds: cython, instrument, "
				    "gprof, coverage, sanitizer, unknown, any)",
				    (int)n, p);
		if (!p[n])
			break;
		p += n + 1;
	}
	*mask = m;
	return 0;
}

struct pattern {
	const char *text;
	int prefix; /* 1: any name starting with text */
	enum hook_kind kind;
};

/* Cython names: 0.29 and 3.0 (__Pyx_TraceSetupAndCall, ...); 3.1 with
 * sys.monitoring (__Pyx__TraceStartFunc, __Pyx__TraceLine, ...). Not
 * __Pyx_AddTraceback: every Cython module has that one. */
static const struct pattern patterns[] = {
	{"__Pyx_Trace", 1, HK_CYTHON},
	{"__Pyx__Trace", 1, HK_CYTHON},
	{"__Pyx_call_return_trace_func", 0, HK_CYTHON},
	{"__Pyx_call_line_trace_func", 0, HK_CYTHON},
	{"__Pyx_createFrameCodeObject", 0, HK_CYTHON},
	{"__cyg_profile_func_enter", 0, HK_INSTRUMENT},
	{"__cyg_profile_func_exit", 0, HK_INSTRUMENT},
	{"mcount", 0, HK_GPROF},
	{"_mcount", 0, HK_GPROF},
	{"__mcount", 0, HK_GPROF},
	{"__fentry__", 0, HK_GPROF},
	{"__monstartup", 0, HK_GPROF},
	{"_mcleanup", 0, HK_GPROF},
	{"__gcov", 1, HK_COVERAGE},
	{"__llvm_profile_", 1, HK_COVERAGE},
	{"__llvm_gcov", 1, HK_COVERAGE},
	{"llvm_gcda_", 1, HK_COVERAGE},
	{"__sanitizer_cov_", 1, HK_COVERAGE},
	{"__asan_", 1, HK_SANITIZER},
	{"__tsan_", 1, HK_SANITIZER},
	{"__ubsan_", 1, HK_SANITIZER},
	{"__msan_", 1, HK_SANITIZER},
	{"__hwasan_", 1, HK_SANITIZER},
};

/* Length of a symbol name without a compiler clone suffix (.constprop.0,
 * .isra.0, .cold) or a symbol version (@GLIBC_2.2.5). */
static size_t base_len(const char *name)
{
	size_t i = 1;
	while (name[0] && name[i] && name[i] != '.' && name[i] != '@')
		i++;
	return name[0] ? i : 0;
}

static int name_is(const char *name, size_t blen, const char *want)
{
	return strlen(want) == blen && !strncmp(name, want, blen);
}

/* -1: not a hook; else its kind. */
static int classify(const char *name, int defined)
{
	size_t blen = base_len(name);
	/* Every binary has a weak undefined __gmon_start__ (crti calls it if
	 * present); only gcrt1's definition means a -pg build. */
	if (name_is(name, blen, "__gmon_start__"))
		return defined ? HK_GPROF : -1;
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		const struct pattern *p = &patterns[i];
		size_t n = strlen(p->text);
		if (p->prefix ? blen >= n && !strncmp(name, p->text, n)
			      : name_is(name, blen, p->text))
			return (int)p->kind;
	}
	return -1;
}

/* Functions after whose call a path goes nowhere: following the bytes
 * behind them would run into the next function. */
static const char *const noreturn_names[] = {
	"__stack_chk_fail", "abort",	      "exit",	      "_exit",
	"__assert_fail",    "Py_FatalError",  "_Py_FatalErrorFunc",
	"__cxa_throw",	    "_Unwind_Resume", "__pyx_fatalerror",
	"longjmp",	    "__longjmp_chk",  "pthread_exit",
};

/* What a call of `name` means to the shape walk (hookshape.h). */
static enum hs_role role_of_name(const char *name)
{
	size_t blen = base_len(name);
	if (name_is(name, blen, "PyGILState_Ensure"))
		return HR_ENSURE;
	if (name_is(name, blen, "PyGILState_Release"))
		return HR_RELEASE;
	if (name_is(name, blen, "PyThreadState_Get") ||
	    name_is(name, blen, "_PyThreadState_UncheckedGet") ||
	    name_is(name, blen, "PyThreadState_GetUnchecked") ||
	    name_is(name, blen, "PyGILState_GetThisThreadState"))
		return HR_TSTATE;
	for (size_t i = 0; i < sizeof noreturn_names / sizeof *noreturn_names; i++)
		if (name_is(name, blen, noreturn_names[i]))
			return HR_NORETURN;
	return classify(name, 1) == HK_CYTHON ? HR_HOOK : HR_NONE;
}

static int is_gil_role(int role)
{
	return role == HR_ENSURE || role == HR_RELEASE;
}

/* ---- small growable arrays --------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Address -> role (enum hs_role), sorted for bsearch. */
struct addr_tag {
	uint64_t addr;
	int tag;
};

struct addrset {
	struct addr_tag *v;
	size_t n, cap;
};

static int addrset_add(struct addrset *s, uint64_t addr, int tag)
{
	if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
		return -1;
	s->v[s->n].addr = addr;
	s->v[s->n].tag = tag;
	s->n++;
	return 0;
}

static int cmp_addr_tag(const void *a, const void *b)
{
	uint64_t x = ((const struct addr_tag *)a)->addr;
	uint64_t y = ((const struct addr_tag *)b)->addr;
	return x < y ? -1 : x > y;
}

static void addrset_sort(struct addrset *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_addr_tag);
}

/* Index of the first entry with addr >= a. */
static size_t addrset_lower(const struct addrset *s, uint64_t a)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].addr < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int addrset_find(const struct addrset *s, uint64_t a)
{
	size_t i = addrset_lower(s, a);
	return i < s->n && s->v[i].addr == a ? s->v[i].tag : 0;
}

/* Tag of an entry in [a, a+len): a relocation inside an instruction. */
static int addrset_find_in(const struct addrset *s, uint64_t a, uint64_t len)
{
	size_t i = addrset_lower(s, a);
	return i < s->n && s->v[i].addr < a + len ? s->v[i].tag : 0;
}

/* ---- the report ------------------------------------------------------- */

void hs_report_init(struct hs_report *r)
{
	memset(r, 0, sizeof *r);
}

static void binary_free(struct hs_binary *b)
{
	free(b->path);
	for (size_t i = 0; i < b->nsyms; i++)
		free(b->syms[i].name);
}

void hs_report_free(struct hs_report *r)
{
	for (size_t i = 0; i < r->nbins; i++)
		binary_free(&r->bins[i]);
	for (size_t i = 0; i < r->nskips; i++) {
		free(r->skips[i].path);
		free(r->skips[i].reason);
	}
	free(r->bins);
	free(r->skips);
	memset(r, 0, sizeof *r);
}

__attribute__((format(printf, 4, 5))) static int
add_skip(struct hs_report *r, errbuf *e, const char *path, const char *fmt, ...)
{
	if (grow((void **)&r->skips, &r->capskips, r->nskips + 1,
		 sizeof *r->skips))
		return errf(e, "out of memory");
	struct hs_skip *s = &r->skips[r->nskips];
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s->reason, fmt, ap);
	va_end(ap);
	s->path = strdup(path);
	if (n < 0 || !s->path) {
		free(s->path);
		if (n >= 0)
			free(s->reason);
		return errf(e, "out of memory");
	}
	r->nskips++;
	return 0;
}

unsigned hs_report_kinds(const struct hs_report *r)
{
	unsigned m = 0;
	for (size_t i = 0; i < r->nbins; i++)
		m |= r->bins[i].kinds |
		     (r->bins[i].verdict == HV_UNKNOWN ? HS_FAIL_UNKNOWN : 0);
	return m;
}

size_t hs_report_instrumented(const struct hs_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nbins; i++)
		n += r->bins[i].kinds != 0;
	return n;
}

size_t hs_report_stripped(const struct hs_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nbins; i++)
		n += r->bins[i].stripped != 0;
	return n;
}

size_t hs_report_count(const struct hs_report *r, enum hs_verdict v)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nbins; i++)
		n += r->bins[i].verdict == v;
	return n;
}

const char *hs_verdict_name(enum hs_verdict v)
{
	switch (v) {
	case HV_HARMFUL:
		return "harmful";
	case HV_UNKNOWN:
		return "unknown";
	case HV_HARMLESS:
		return "harmless";
	case HV_NONE:
		return "none";
	}
	return "?";
}

const char *hs_verdict_message(const struct hs_binary *b)
{
	return b->message[0] ? b->message : hs_verdict_name(b->verdict);
}

/* ---- reading one ELF --------------------------------------------------- */

/* libelf's last error, or `fallback` when it has none to give. */
static const char *elf_why(const char *fallback)
{
	int err = elf_errno();
	return err ? elf_errmsg(err) : fallback;
}

/* A hook symbol seen while the Elf is open (name points into libelf). */
struct found {
	const char *name;
	size_t len; /* without the @VERSION that .symtab names carry */
	enum hook_kind kind;
	int defined;
};

struct exec_range {
	uint64_t addr, size;
	const uint8_t *bytes;
};

/* A function symbol of .symtab/.dynsym, to name the code at an address. */
struct func_sym {
	uint64_t addr, size;
	const char *name; /* points into libelf */
};

/* Everything learnt about one ELF while it is open. */
struct elfscan {
	Elf *elf;
	GElf_Ehdr eh;
	size_t shstrndx;
	int is_rel; /* ET_REL: calls are resolved through relocations */
	int is_libc;
	struct found *found;
	size_t nfound, capfound;
	int has_symtab, has_gil_sym, has_tstate_sym;
	int defines_gil; /* the interpreter itself: its own lock calls */
	struct addrset func_roles; /* defined functions of interest -> role */
	struct addrset got_slots; /* GOT/data slots relocated to them */
	struct addrset rel_sites; /* ET_REL: (section << 40 | offset) */
	struct exec_range *plts;  /* .plt, .plt.sec, .plt.got, .iplt */
	size_t nplts, capplts;
	struct func_sym *funcs;	  /* sorted by addr once read */
	size_t nfuncs, capfuncs;
};

static void elfscan_free(struct elfscan *s)
{
	free(s->found);
	free(s->func_roles.v);
	free(s->got_slots.v);
	free(s->rel_sites.v);
	free(s->plts);
	free(s->funcs);
}

/* ET_REL sites are keyed by section and offset in one integer. */
static uint64_t rel_key(size_t scn, uint64_t off)
{
	return ((uint64_t)scn << 40) | (off & (((uint64_t)1 << 40) - 1));
}

static const char *scn_name(struct elfscan *s, const GElf_Shdr *sh)
{
	const char *n = elf_strptr(s->elf, s->shstrndx, sh->sh_name);
	return n ? n : "";
}

static int is_plt_name(const char *n)
{
	return !strncmp(n, ".plt", 4) || !strcmp(n, ".iplt");
}

/* DT_SONAME and DT_FLAGS_1 from the dynamic section, if any. */
static void read_dynamic(struct elfscan *s, Elf_Scn *scn, const GElf_Shdr *sh,
			 struct hs_binary *b)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || !sh->sh_entsize)
		return;
	size_t n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dyn;
		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE))
			snprintf(b->type, sizeof b->type, "executable");
		if (dyn.d_tag == DT_SONAME) {
			const char *so = elf_strptr(s->elf, sh->sh_link,
						    dyn.d_un.d_val);
			s->is_libc = so && !strncmp(so, "libc.so", 7);
		}
	}
}

/* A defined function: its role for the walk, and its name for the report.
 * In an object file its address is keyed like the code (rel_key). */
static int remember_func(struct elfscan *s, const GElf_Sym *sym,
			 const char *name, int role)
{
	uint64_t a = s->is_rel ? rel_key(sym->st_shndx, sym->st_value)
			       : sym->st_value;
	if (!s->is_rel && !a)
		return 0;
	if (role && addrset_add(&s->func_roles, a, role))
		return -1;
	if (grow((void **)&s->funcs, &s->capfuncs, s->nfuncs + 1, sizeof *s->funcs))
		return -1;
	s->funcs[s->nfuncs++] = (struct func_sym){a, sym->st_size, name};
	return 0;
}

static int read_symbols(struct elfscan *s, Elf_Scn *scn, const GElf_Shdr *sh,
			errbuf *e)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d)
		return errf(e, "symbol table unreadable: %s",
			    elf_why("no data"));
	size_t esz = gelf_fsize(s->elf, ELF_T_SYM, 1, EV_CURRENT);
	size_t n = esz ? d->d_size / esz : 0;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(d, (int)i, &sym))
			return errf(e, "symbol %zu unreadable: %s", i,
				    elf_why("bad entry"));
		int type = GELF_ST_TYPE(sym.st_info);
		if (type == STT_SECTION || type == STT_FILE || !sym.st_name)
			continue;
		const char *name = elf_strptr(s->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		int defined = sym.st_shndx != SHN_UNDEF;
		int role = role_of_name(name);
		s->has_gil_sym |= is_gil_role(role);
		s->defines_gil |= defined && role == HR_ENSURE;
		s->has_tstate_sym |= role == HR_TSTATE;
		if (defined && type == STT_FUNC && sym.st_shndx < SHN_LORESERVE &&
		    remember_func(s, &sym, name, role))
			return errf(e, "out of memory");
		int kind = classify(name, defined);
		if (kind < 0)
			continue;
		if (grow((void **)&s->found, &s->capfound, s->nfound + 1,
			 sizeof *s->found))
			return errf(e, "out of memory");
		s->found[s->nfound++] = (struct found){
			name, strcspn(name, "@"), (enum hook_kind)kind, defined};
	}
	return 0;
}

/* Name of symbol `idx` of the symbol table in section `symscn`. */
static const char *reloc_sym_name(struct elfscan *s, size_t symscn, size_t idx)
{
	Elf_Scn *scn = elf_getscn(s->elf, symscn);
	GElf_Shdr sh;
	GElf_Sym sym;
	if (!scn || !gelf_getshdr(scn, &sh) || idx == 0)
		return NULL;
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || !gelf_getsym(d, (int)idx, &sym))
		return NULL;
	return elf_strptr(s->elf, sh.sh_link, sym.st_name);
}

/* Relocations that point at PyGILState_*: in a linked binary they name
 * GOT slots (JUMP_SLOT via the PLT, GLOB_DAT for -fno-plt); in an object
 * file they sit inside the call instruction itself. */
static int read_relocs(struct elfscan *s, Elf_Scn *scn, const GElf_Shdr *sh,
		       errbuf *e)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || !sh->sh_entsize || !sh->sh_link)
		return 0; /* unreadable relocations only cost precision */
	size_t n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Rela ra;
		GElf_Rel rl;
		uint64_t off, info;
		if (sh->sh_type == SHT_RELA) {
			if (!gelf_getrela(d, (int)i, &ra))
				break;
			off = ra.r_offset, info = ra.r_info;
		} else {
			if (!gelf_getrel(d, (int)i, &rl))
				break;
			off = rl.r_offset, info = rl.r_info;
		}
		const char *name =
			reloc_sym_name(s, sh->sh_link, GELF_R_SYM(info));
		int role = name ? (int)role_of_name(name) : HR_NONE;
		if (role == HR_NONE)
			continue;
		int rc = s->is_rel ? addrset_add(&s->rel_sites,
						 rel_key(sh->sh_info, off), role)
				   : addrset_add(&s->got_slots, off, role);
		if (rc)
			return errf(e, "out of memory");
	}
	return 0;
}

static int note_plt(struct elfscan *s, Elf_Scn *scn, const GElf_Shdr *sh,
		    errbuf *e)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf)
		return 0;
	if (grow((void **)&s->plts, &s->capplts, s->nplts + 1, sizeof *s->plts))
		return errf(e, "out of memory");
	s->plts[s->nplts++] =
		(struct exec_range){sh->sh_addr, d->d_size, d->d_buf};
	return 0;
}

/* One pass over the section headers: symbols, relocations, PLT ranges. */
static int read_sections(struct elfscan *s, struct hs_binary *b, errbuf *e)
{
	size_t nscn;
	if (elf_getshdrnum(s->elf, &nscn) || elf_getshdrstrndx(s->elf, &s->shstrndx))
		return errf(e, "section headers unreadable: %s",
			    elf_why("bad header table"));
	if (nscn == 0)
		return errf(e, s->eh.e_shoff ? "section header table missing "
						"(truncated file?)"
					     : "no section headers: no symbols "
					       "to read");
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(s->elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return errf(e, "section header unreadable: %s",
				    elf_why("bad entry"));
		int rc = 0;
		switch (sh.sh_type) {
		case SHT_SYMTAB:
			s->has_symtab = 1;
			/* fall through */
		case SHT_DYNSYM:
			rc = read_symbols(s, scn, &sh, e);
			break;
		case SHT_RELA:
		case SHT_REL:
			rc = read_relocs(s, scn, &sh, e);
			break;
		case SHT_DYNAMIC:
			read_dynamic(s, scn, &sh, b);
			break;
		case SHT_PROGBITS:
			if ((sh.sh_flags & SHF_EXECINSTR) &&
			    is_plt_name(scn_name(s, &sh)))
				rc = note_plt(s, scn, &sh, e);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- following the code: lock call sites and their shapes -------------- */

/* aarch64 reaches the GOT with adrp + ldr; remember, per register, the
 * page an adrp loaded and the slot an ldr read, until the next branch or
 * another write to the register. An entry is valid when its generation is
 * gen + 1, so bumping gen forgets everything at once. */
struct a64_regs {
	uint64_t page[ARM64_REG_ENDING], slot[ARM64_REG_ENDING];
	unsigned pgen[ARM64_REG_ENDING], sgen[ARM64_REG_ENDING];
	unsigned gen;
};

struct u64vec {
	uint64_t *v;
	size_t n, cap;
};

struct counter {
	struct elfscan *s;
	csh cs;
	cs_arch arch;
	struct a64_regs *a64;
	struct addrset plt_roles; /* PLT stub -> role + 1, sorted as met */
	long count[HR_NROLES];
	struct u64vec ensure_next; /* just after each call of Ensure */
	struct u64vec tstate_next; /* just after each thread-state read */
	struct u64vec starts;	   /* stripped: call and lea targets */
	struct hs_span *spans;	   /* the code swept, for the walks */
	size_t nspans, capspans;
	int oom;
};

static void vec_push(struct counter *c, struct u64vec *v, uint64_t x)
{
	if (grow((void **)&v->v, &v->cap, v->n + 1, sizeof *v->v))
		c->oom = 1;
	else
		v->v[v->n++] = x;
}

static void counter_free(struct counter *c)
{
	free(c->plt_roles.v);
	free(c->ensure_next.v);
	free(c->tstate_next.v);
	free(c->starts.v);
	free(c->spans);
	free(c->a64);
}

static int in_plt(const struct elfscan *s, uint64_t a)
{
	for (size_t i = 0; i < s->nplts; i++)
		if (a >= s->plts[i].addr && a - s->plts[i].addr < s->plts[i].size)
			return (int)i + 1;
	return 0;
}

static int in_code(const struct counter *c, uint64_t a)
{
	for (size_t i = 0; i < c->nspans; i++)
		if (a >= c->spans[i].addr && a - c->spans[i].addr < c->spans[i].size)
			return 1;
	return 0;
}

/* adrp/ldr tracking; returns the GOT slot a br/blr jumps through, or 0. */
static uint64_t a64_step(struct a64_regs *g, const cs_insn *in)
{
	const cs_arm64 *a = &in->detail->arm64;
	unsigned r0 = a->op_count ? (unsigned)a->operands[0].reg : 0;
	if (r0 >= ARM64_REG_ENDING)
		return 0;
	unsigned valid = g->gen + 1;
	switch (in->id) {
	case ARM64_INS_ADRP:
		if (a->op_count == 2 && a->operands[1].type == ARM64_OP_IMM) {
			g->page[r0] = (uint64_t)a->operands[1].imm;
			g->pgen[r0] = valid;
			g->sgen[r0] = 0;
		}
		return 0;
	case ARM64_INS_LDR:
		if (a->op_count == 2 && a->operands[1].type == ARM64_OP_MEM) {
			unsigned base = (unsigned)a->operands[1].mem.base;
			int ok = base < ARM64_REG_ENDING && g->pgen[base] == valid &&
				 a->operands[1].mem.index == ARM64_REG_INVALID;
			g->slot[r0] = ok ? g->page[base] +
						   (uint64_t)(int64_t)a->operands[1].mem.disp
					 : 0;
			g->sgen[r0] = ok ? valid : 0;
			g->pgen[r0] = 0;
		}
		return 0;
	case ARM64_INS_BR:
	case ARM64_INS_BLR: {
		uint64_t slot = g->sgen[r0] == valid ? g->slot[r0] : 0;
		g->gen++;
		return slot;
	}
	}
	if (a->op_count && a->operands[0].type == ARM64_OP_REG &&
	    (a->operands[0].access & CS_AC_WRITE))
		g->pgen[r0] = g->sgen[r0] = 0;
	return 0;
}

/* The GOT slot a PLT stub at `target` jumps through, or 0. */
static uint64_t plt_slot(struct counter *c, uint64_t target)
{
	int i = in_plt(c->s, target) - 1;
	if (i < 0)
		return 0;
	const struct exec_range *p = &c->s->plts[i];
	const uint8_t *code = p->bytes + (target - p->addr);
	size_t size = p->size - (target - p->addr);
	uint64_t addr = target, slot = 0;
	cs_insn *in = cs_malloc(c->cs);
	if (!in)
		return 0;
	struct a64_regs *g = c->a64 ? calloc(1, sizeof *g) : NULL;
	for (int k = 0; k < 6 && !slot && (g || !c->a64) &&
			cs_disasm_iter(c->cs, &code, &size, &addr, in);
	     k++) {
		if (c->arch == CS_ARCH_ARM64) {
			slot = a64_step(g, in);
			if (in->id == ARM64_INS_BR || in->id == ARM64_INS_BLR)
				break;
			continue;
		}
		const cs_x86 *x = &in->detail->x86;
		if (in->id == X86_INS_JMP && x->op_count == 1 &&
		    x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RIP)
			slot = in->address + in->size +
			       (uint64_t)x->operands[0].mem.disp;
		else if (in->id == X86_INS_JMP || in->id == X86_INS_CALL)
			break;
	}
	free(g);
	cs_free(in, 1);
	return slot;
}

/* Keep a sorted set sorted while adding to it (PLT stubs are few). */
static int addrset_insert(struct addrset *s, uint64_t addr, int tag)
{
	if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
		return -1;
	size_t i = addrset_lower(s, addr);
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
	s->v[i] = (struct addr_tag){addr, tag};
	s->n++;
	return 0;
}

/* The role of a direct call's target: a defined function, or a PLT stub
 * (each stub decoded once, however often it is called). */
static enum hs_role target_role(struct counter *c, uint64_t target)
{
	int r = addrset_find(&c->s->func_roles, target);
	if (r || !in_plt(c->s, target))
		return (enum hs_role)r;
	int t = addrset_find(&c->plt_roles, target);
	if (t)
		return (enum hs_role)(t - 1);
	r = addrset_find(&c->s->got_slots, plt_slot(c, target));
	if (addrset_insert(&c->plt_roles, target, r + 1))
		c->oom = 1;
	return (enum hs_role)r;
}

/* The role of what a call or jump instruction reaches: through a
 * relocation (object files), a direct target, or a GOT slot (-fno-plt).
 * Also the resolver the shape walks use. */
static enum hs_role insn_role(void *ctx, const cs_insn *in)
{
	struct counter *c = ctx;
	if (c->s->is_rel) {
		int r = addrset_find_in(&c->s->rel_sites, in->address, in->size);
		if (r)
			return (enum hs_role)r;
	}
	if (c->arch == CS_ARCH_X86) {
		const cs_x86 *x = &in->detail->x86;
		if (x->op_count != 1)
			return HR_NONE;
		const cs_x86_op *op = &x->operands[0];
		if (op->type == X86_OP_IMM)
			return target_role(c, (uint64_t)op->imm);
		if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
		    op->mem.index == X86_REG_INVALID)
			return (enum hs_role)addrset_find(
				&c->s->got_slots,
				in->address + in->size + (uint64_t)op->mem.disp);
		return HR_NONE;
	}
	const cs_arm64 *a = &in->detail->arm64;
	if ((in->id == ARM64_INS_BL || in->id == ARM64_INS_B) &&
	    a->op_count == 1 && a->operands[0].type == ARM64_OP_IMM)
		return target_role(c, (uint64_t)a->operands[0].imm);
	return HR_NONE;
}

/* A call (or tail jump) of a function of interest, met in the sweep. */
static void note_call(struct counter *c, const cs_insn *in, enum hs_role role,
		      int is_call)
{
	c->count[role]++;
	uint64_t next = in->address + in->size;
	if (is_call && role == HR_ENSURE)
		vec_push(c, &c->ensure_next, next);
	else if (is_call && role == HR_TSTATE)
		vec_push(c, &c->tstate_next, next);
}

/* Without .symtab, function entries are what code calls or takes the
 * address of (a cdef method's vtable slot is filled with lea). */
static void note_start(struct counter *c, uint64_t a)
{
	if (!c->s->has_symtab && in_code(c, a))
		vec_push(c, &c->starts, a);
}

static void on_x86(struct counter *c, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	if (in->id == X86_INS_LEA && x->op_count == 2 &&
	    x->operands[1].type == X86_OP_MEM &&
	    x->operands[1].mem.base == X86_REG_RIP) {
		note_start(c, in->address + in->size +
				      (uint64_t)x->operands[1].mem.disp);
		return;
	}
	if (in->id != X86_INS_CALL && in->id != X86_INS_JMP)
		return;
	enum hs_role role = insn_role(c, in);
	if (role != HR_NONE)
		note_call(c, in, role, in->id == X86_INS_CALL);
	else if (in->id == X86_INS_CALL && x->op_count == 1 &&
		 x->operands[0].type == X86_OP_IMM)
		note_start(c, (uint64_t)x->operands[0].imm);
}

static void on_a64(struct counter *c, const cs_insn *in)
{
	const cs_arm64 *a = &in->detail->arm64;
	if ((in->id == ARM64_INS_BL || in->id == ARM64_INS_B) &&
	    a->op_count == 1 && a->operands[0].type == ARM64_OP_IMM) {
		enum hs_role role = insn_role(c, in);
		if (role != HR_NONE)
			note_call(c, in, role, in->id == ARM64_INS_BL);
		else if (in->id == ARM64_INS_BL)
			note_start(c, (uint64_t)a->operands[0].imm);
		c->a64->gen++;
		return;
	}
	uint64_t slot = a64_step(c->a64, in);
	enum hs_role role = slot ? (enum hs_role)addrset_find(&c->s->got_slots, slot)
				 : HR_NONE;
	if (role != HR_NONE)
		note_call(c, in, role, in->id == ARM64_INS_BLR);
}

static int is_branch(const struct counter *c, const cs_insn *in)
{
	if (c->arch == CS_ARCH_X86)
		return in->id == X86_INS_CALL || in->id == X86_INS_JMP;
	return in->id == ARM64_INS_BL || in->id == ARM64_INS_B ||
	       in->id == ARM64_INS_BLR || in->id == ARM64_INS_BR;
}

static int is_call(const struct counter *c, const cs_insn *in)
{
	return c->arch == CS_ARCH_X86 ? in->id == X86_INS_CALL
				      : in->id == ARM64_INS_BL || in->id == ARM64_INS_BLR;
}

/* Linear sweep of one executable section. Undecodable bytes (data in
 * .text) are stepped over, not fatal. An object file's sections are
 * placed at rel_key(section, 0), so an address is also its relocation
 * key and branches stay inside their section. */
static int sweep(struct counter *c, uint64_t base, const uint8_t *code,
		 size_t size)
{
	cs_insn *in = cs_malloc(c->cs);
	if (!in)
		return -1;
	uint64_t addr = base;
	size_t step = c->arch == CS_ARCH_X86 ? 1 : 4;
	while (size > 0) {
		if (!cs_disasm_iter(c->cs, &code, &size, &addr, in)) {
			if (size < step)
				break;
			code += step, size -= step, addr += step;
			continue;
		}
		if (c->s->is_rel) {
			enum hs_role role = is_branch(c, in) ? insn_role(c, in)
							     : HR_NONE;
			if (role != HR_NONE)
				note_call(c, in, role, is_call(c, in));
		} else if (c->arch == CS_ARCH_X86) {
			on_x86(c, in);
		} else {
			on_a64(c, in);
		}
	}
	cs_free(in, 1);
	return 0;
}

static int open_capstone(struct counter *c, const struct elfscan *s)
{
	cs_mode mode;
	if (s->eh.e_machine == EM_X86_64 && s->eh.e_ident[EI_CLASS] == ELFCLASS64) {
		c->arch = CS_ARCH_X86;
		mode = CS_MODE_64;
	} else if (s->eh.e_machine == EM_AARCH64) {
		c->arch = CS_ARCH_ARM64;
		mode = s->eh.e_ident[EI_DATA] == ELFDATA2MSB ? CS_MODE_BIG_ENDIAN
							      : CS_MODE_LITTLE_ENDIAN;
	} else {
		return 1;
	}
	if (cs_open(c->arch, mode, &c->cs) != CS_ERR_OK)
		return -1;
	cs_option(c->cs, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

/* The executable sections other than the PLT, as spans. */
static int collect_spans(struct counter *c, struct hs_binary *b)
{
	struct elfscan *s = c->s;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(s->elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || is_plt_name(scn_name(s, &sh)))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || (!d->d_buf && d->d_size)) {
			snprintf(b->note, sizeof b->note,
				 "call sites not counted: section %s unreadable: %s",
				 scn_name(s, &sh), elf_why("no data"));
			return -1;
		}
		if (!d->d_size)
			continue;
		if (grow((void **)&c->spans, &c->capspans, c->nspans + 1,
			 sizeof *c->spans))
			return -1;
		uint64_t base = s->is_rel ? rel_key(elf_ndxscn(scn), 0) : sh.sh_addr;
		c->spans[c->nspans++] = (struct hs_span){base, d->d_size, d->d_buf};
	}
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	uint64_t x = ((const struct hs_span *)a)->addr;
	uint64_t y = ((const struct hs_span *)b)->addr;
	return x < y ? -1 : x > y;
}

static int sweep_all(struct counter *c, struct hs_binary *b)
{
	if (collect_spans(c, b)) {
		if (!b->note[0])
			snprintf(b->note, sizeof b->note,
				 "call sites not counted: out of memory");
		return -1;
	}
	if (c->nspans)
		qsort(c->spans, c->nspans, sizeof *c->spans, cmp_span);
	for (size_t i = 0; i < c->nspans; i++)
		if (sweep(c, c->spans[i].addr, c->spans[i].bytes, c->spans[i].size) ||
		    c->oom) {
			snprintf(b->note, sizeof b->note,
				 "call sites not counted: out of memory");
			return -1;
		}
	return 0;
}

/* ---- naming the functions that take the lock per call ------------------ */

static int cmp_func(const void *a, const void *b)
{
	uint64_t x = ((const struct func_sym *)a)->addr;
	uint64_t y = ((const struct func_sym *)b)->addr;
	return x < y ? -1 : x > y;
}

/* The function symbol holding `a`, or NULL. */
static const struct func_sym *func_at(const struct elfscan *s, uint64_t a)
{
	const struct func_sym *best = NULL;
	for (size_t i = 0; i < s->nfuncs && s->funcs[i].addr <= a; i++)
		if (a - s->funcs[i].addr < (s->funcs[i].size ? s->funcs[i].size : 1))
			best = &s->funcs[i];
	return best;
}

/* The nearest discovered entry at or below `a` (stripped), or 0. */
static uint64_t start_below(const struct u64vec *v, uint64_t a)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->v[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? v->v[lo - 1] : 0;
}

static void add_func_name(struct hs_lock_funcs *f, const char *name, size_t len)
{
	for (size_t i = 0; i < f->shown; i++)
		if (strlen(f->names[i]) == len && !strncmp(f->names[i], name, len))
			return;
	f->count++;
	if (f->shown < HS_MAX_FUNCS) {
		snprintf(f->names[f->shown], sizeof f->names[0], "%.*s", (int)len,
			 name);
		f->shown++;
	}
}

/* Entry of the function holding a harmful site, and its name: the
 * symbol without a clone suffix (crit.cold and crit are one function),
 * or the address when stripped. 0 when none is known. */
static uint64_t func_of(struct counter *c, uint64_t site, char *name, size_t len)
{
	const struct func_sym *f = func_at(c->s, site);
	if (f) {
		size_t n = base_len(f->name);
		snprintf(name, len, "%.*s", (int)n, f->name);
		/* the hot part's entry, when this is its .cold part */
		for (size_t i = 0; i < c->s->nfuncs; i++)
			if (base_len(c->s->funcs[i].name) == n &&
			    !strncmp(c->s->funcs[i].name, f->name, n) &&
			    !c->s->funcs[i].name[n])
				return c->s->funcs[i].addr;
		return f->addr;
	}
	uint64_t a = start_below(&c->starts, site);
	if (a)
		snprintf(name, len, "0x%llx", (unsigned long long)a);
	return a;
}

/* The functions holding harmful lock regions; those whose entry takes
 * the lock before anything else are named first, as per-call for sure. */
static void name_lock_funcs(struct counter *c, const struct hs_code *code,
			    const struct u64vec *harm, struct hs_binary *b)
{
	struct hs_lock_funcs entry = {0}, other = {0};
	for (size_t i = 0; i < harm->n; i++) {
		char name[96];
		uint64_t fn = func_of(c, harm->v[i], name, sizeof name);
		if (!fn)
			continue;
		if (hs_walk_entry(code, fn))
			add_func_name(&entry, name, strlen(name));
		else
			add_func_name(&other, name, strlen(name));
	}
	b->lock_funcs = entry;
	for (size_t i = 0; i < other.shown; i++)
		add_func_name(&b->lock_funcs, other.names[i], strlen(other.names[i]));
	b->lock_funcs.count += other.count - other.shown;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Walk every lock region and every thread-state read (hookshape.h). */
static void judge_shapes(struct counter *c, struct hs_binary *b)
{
	struct hs_code code = {c->cs, c->arch == CS_ARCH_X86, c->spans,
			       c->nspans, insn_role, c};
	struct u64vec harm = {0};
	for (size_t i = 0; i < c->ensure_next.n; i++) {
		enum hs_walk w = hs_walk_region(&code, c->ensure_next.v[i]);
		if (w == HW_HARMFUL) {
			b->regions_harmful++;
			vec_push(c, &harm, c->ensure_next.v[i]);
		} else if (w == HW_BENIGN) {
			b->regions_benign++;
		} else {
			b->regions_unresolved++;
		}
	}
	for (size_t i = 0; i < c->tstate_next.n; i++)
		b->trace_tests += hs_walk_trace_test(&code, c->tstate_next.v[i]);
	if (c->starts.n)
		qsort(c->starts.v, c->starts.n, sizeof *c->starts.v, cmp_u64);
	if (c->s->nfuncs)
		qsort(c->s->funcs, c->s->nfuncs, sizeof *c->s->funcs, cmp_func);
	if (harm.n)
		name_lock_funcs(c, &code, &harm, b);
	free(harm.v);
}

/* Count call sites of PyGILState_Ensure/Release in the binary's own code
 * and judge what they lead to, skipping the disassembly when the binary
 * references neither the lock nor the thread state. */
static void count_gil_calls(struct elfscan *s, struct hs_binary *b)
{
	if ((!s->has_gil_sym && !s->has_tstate_sym) || s->defines_gil) {
		b->gil_counted = !s->defines_gil;
		if (s->defines_gil)
			snprintf(b->note, sizeof b->note,
				 "the interpreter itself (defines PyGILState_Ensure):"
				 " its own lock calls are not hooks");
		return;
	}
	struct counter c = {.s = s};
	int rc = open_capstone(&c, s);
	if (rc) {
		snprintf(b->note, sizeof b->note,
			 rc > 0 ? "call sites not counted: unsupported "
				  "architecture %s"
				: "call sites not counted: disassembler "
				  "unavailable for %s",
			 b->arch);
		return;
	}
	if (c.arch == CS_ARCH_ARM64 && !(c.a64 = calloc(1, sizeof *c.a64))) {
		cs_close(&c.cs);
		snprintf(b->note, sizeof b->note, "call sites not counted: out of memory");
		return;
	}
	addrset_sort(&s->func_roles);
	addrset_sort(&s->got_slots);
	addrset_sort(&s->rel_sites);
	if (sweep_all(&c, b) == 0) {
		b->gil_counted = 1;
		b->gil_ensure = c.count[HR_ENSURE];
		b->gil_release = c.count[HR_RELEASE];
		judge_shapes(&c, b);
	}
	counter_free(&c);
	cs_close(&c.cs);
}

/* ---- from an open Elf to a report entry -------------------------------- */

static void describe(const GElf_Ehdr *eh, struct hs_binary *b)
{
	switch (eh->e_machine) {
	case EM_X86_64:
		snprintf(b->arch, sizeof b->arch, "x86-64");
		break;
	case EM_AARCH64:
		snprintf(b->arch, sizeof b->arch, "aarch64");
		break;
	case EM_386:
		snprintf(b->arch, sizeof b->arch, "i386");
		break;
	default:
		snprintf(b->arch, sizeof b->arch, "machine-%u", eh->e_machine);
	}
	const char *t = eh->e_type == ET_DYN	? "shared object"
			: eh->e_type == ET_EXEC ? "executable"
			: eh->e_type == ET_REL	? "object"
						: "other";
	snprintf(b->type, sizeof b->type, "%s", t);
}

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int c = strncmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	if (!c && x->len != y->len)
		c = x->len < y->len ? -1 : 1;
	return c ? c : y->defined - x->defined;
}

static int same_name(const struct found *x, const struct found *y)
{
	return x->len == y->len && !strncmp(x->name, y->name, x->len);
}

/* Distinct names, first few kept; the C library's own gprof and
 * -finstrument-functions runtime (it defines mcount, __cyg_profile_*)
 * is not instrumentation of the library. */
static int keep_symbols(struct elfscan *s, struct hs_binary *b, errbuf *e)
{
	if (s->nfound)
		qsort(s->found, s->nfound, sizeof *s->found, cmp_found);
	for (size_t i = 0; i < s->nfound; i++) {
		const struct found *f = &s->found[i];
		if (i && same_name(f, &s->found[i - 1]))
			continue;
		if (s->is_libc && f->defined &&
		    (f->kind == HK_GPROF || f->kind == HK_INSTRUMENT))
			continue;
		b->kinds |= HK_BIT(f->kind);
		b->symbols_total++;
		if (b->nsyms == HS_MAX_SYMS)
			continue;
		struct hs_symbol *hs = &b->syms[b->nsyms];
		if (!(hs->name = strndup(f->name, f->len)))
			return errf(e, "out of memory");
		hs->kind = f->kind;
		hs->defined = f->defined;
		b->nsyms++;
	}
	return 0;
}

static void verdict_words(struct hs_binary *b)
{
	char *m = b->message;
	size_t n = sizeof b->message;
	long sites = b->gil_ensure + b->gil_release;
	switch (b->verdict) {
	case HV_HARMFUL:
		if (b->lock_funcs.count)
			snprintf(m, n, "harmful: trace hooks take the interpreter "
				       "lock on every call of %zu function%s: "
				       "parallel calls serialise",
				 b->lock_funcs.count, b->lock_funcs.count == 1 ? "" : "s");
		else
			snprintf(m, n, "harmful: trace hooks take the interpreter "
				       "lock in %ld place%s: parallel calls serialise",
				 b->regions_harmful, b->regions_harmful == 1 ? "" : "s");
		return;
	case HV_UNKNOWN:
		if (b->gil_counted)
			snprintf(m, n, "unknown (stripped; %ld interpreter-lock "
				       "call sites)", sites);
		else
			snprintf(m, n, "unknown (interpreter-lock calls not "
				       "followed; see note)");
		return;
	case HV_HARMLESS:
		if (!(b->kinds & HK_BIT(HK_CYTHON)))
			snprintf(m, n, "instrumentation compiled in: not a release build");
		else if (b->shape_found)
			snprintf(m, n, "harmless: trace checks found by disassembly "
				       "(stripped), none takes the interpreter lock");
		else
			snprintf(m, n, "harmless: Cython trace hooks that do not take "
				       "the interpreter lock (free without a tracer)");
		return;
	case HV_NONE:
		snprintf(m, n, "no instrumentation found");
		return;
	}
}

/* Harmful when a lock region holds a tracing test; unknown when the
 * lock calls could not be followed, or when a stripped binary shows
 * neither hook names nor a tracing test to vouch for them. The
 * interpreter itself (it defines PyGILState_Ensure) is judged by its
 * symbols alone: its lock calls are its own business, not hooks. */
static void judge(struct hs_binary *b, const struct elfscan *s)
{
	long sites = b->gil_ensure + b->gil_release;
	if (s->defines_gil) {
		b->verdict = b->kinds ? HV_HARMLESS : HV_NONE;
		verdict_words(b);
		return;
	}
	if (b->stripped && (b->regions_harmful || b->trace_tests) &&
	    !(b->kinds & HK_BIT(HK_CYTHON))) {
		b->kinds |= HK_BIT(HK_CYTHON);
		b->shape_found = 1;
	}
	if (b->regions_harmful)
		b->verdict = HV_HARMFUL;
	else if (s->has_gil_sym && !b->gil_counted)
		b->verdict = HV_UNKNOWN;
	else if (b->stripped && sites > 0 && !(b->kinds & HK_BIT(HK_CYTHON)))
		b->verdict = HV_UNKNOWN;
	else
		b->verdict = b->kinds ? HV_HARMLESS : HV_NONE;
	verdict_words(b);
}

/* Scan an open Elf into a new report entry, or a skip when it cannot be
 * parsed. Returns -1 only on out-of-memory. */
static int scan_elf(struct hs_report *r, const char *name, Elf *elf, errbuf *e)
{
	struct elfscan s = {.elf = elf};
	errbuf why = {{0}};
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &s.eh))
		return add_skip(r, e, name, "corrupt ELF: %s",
				elf_why("unrecognised ELF header"));
	s.is_rel = s.eh.e_type == ET_REL;
	struct hs_binary b = {0};
	describe(&s.eh, &b);
	if (read_sections(&s, &b, &why)) {
		elfscan_free(&s);
		if (!strcmp(why.msg, "out of memory"))
			return errf(e, "out of memory");
		return add_skip(r, e, name, "corrupt ELF: %s", why.msg);
	}
	b.stripped = !s.has_symtab;
	count_gil_calls(&s, &b);
	int rc = keep_symbols(&s, &b, e);
	if (!rc && !(b.path = strdup(name)))
		rc = errf(e, "out of memory");
	if (!rc && grow((void **)&r->bins, &r->capbins, r->nbins + 1,
			sizeof *r->bins))
		rc = errf(e, "out of memory");
	if (rc) {
		binary_free(&b);
		elfscan_free(&s);
		return rc;
	}
	judge(&b, &s);
	if (b.verdict == HV_UNKNOWN && b.gil_counted && !b.note[0])
		snprintf(b.note, sizeof b.note,
			 "stripped (no .symtab) and no tracing test recognised: "
			 "local hooks such as Cython's cannot be seen by symbol");
	else if (b.regions_unresolved && !b.note[0])
		snprintf(b.note, sizeof b.note,
			 "%ld of %ld interpreter-lock regions not followed to "
			 "their release",
			 b.regions_unresolved,
			 b.regions_unresolved + b.regions_benign + b.regions_harmful);
	r->bins[r->nbins++] = b;
	elfscan_free(&s);
	return 0;
}

static int is_elf_magic(const void *buf, size_t len)
{
	return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

int hs_scan_image(struct hs_report *r, const char *name, void *buf, size_t len,
		  errbuf *e)
{
	if (!is_elf_magic(buf, len))
		return add_skip(r, e, name, "not an ELF file");
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(buf, len);
	if (!elf)
		return add_skip(r, e, name, "corrupt ELF: %s",
				elf_why("unreadable"));
	int rc = scan_elf(r, name, elf, e);
	elf_end(elf);
	return rc;
}

/* ---- files, archives, directories ------------------------------------- */

/* Where a path met inside a directory or archive is only worth a note
 * when it is not ELF: names that promise a binary. */
static int binary_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *ext = strrchr(base, '.');
	return strstr(base, ".so.") || (ext && (!strcmp(ext, ".so") ||
						!strcmp(ext, ".o") ||
						!strcmp(ext, ".pyd")));
}

static int zip_name(const char *path)
{
	const char *ext = strrchr(path, '.');
	return ext && (!strcmp(ext, ".whl") || !strcmp(ext, ".zip") ||
		       !strcmp(ext, ".egg"));
}

static int is_zip_magic(const unsigned char *m, size_t n)
{
	return n >= 4 && m[0] == 'P' && m[1] == 'K' &&
	       ((m[2] == 3 && m[3] == 4) || (m[2] == 5 && m[3] == 6));
}

#ifndef CONTEND_NO_LIBZIP
/* Read a member fully; 0 ok, 1 noted as skip, -1 out of memory. */
static int read_member(struct hs_report *r, zip_t *z, zip_uint64_t i,
		       const char *mname, zip_uint64_t size, unsigned char **out,
		       errbuf *e)
{
	zip_file_t *f = zip_fopen_index(z, i, 0);
	if (!f)
		return add_skip(r, e, mname, "cannot open member: %s",
				zip_strerror(z)) ? -1 : 1;
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf) {
		zip_fclose(f);
		return errf(e, "out of memory");
	}
	zip_uint64_t got = 0;
	while (got < size) {
		zip_int64_t k = zip_fread(f, buf + got, size - got);
		if (k <= 0)
			break;
		got += (zip_uint64_t)k;
	}
	int bad = got < size;
	int rc = 0;
	if (bad)
		rc = add_skip(r, e, mname, "corrupt archive member: %s",
			      zip_file_strerror(f)) ? -1 : 1;
	zip_fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

static int scan_member(struct hs_report *r, zip_t *z, zip_uint64_t i,
		       const char *zpath, errbuf *e)
{
	zip_stat_t st;
	zip_stat_init(&st);
	if (zip_stat_index(z, i, 0, &st) || !(st.valid & ZIP_STAT_NAME))
		return add_skip(r, e, zpath, "member %llu unreadable: %s",
				(unsigned long long)i, zip_strerror(z));
	size_t nlen = strlen(st.name);
	if (nlen && st.name[nlen - 1] == '/')
		return 0;
	char *mname = NULL;
	if (asprintf(&mname, "%s!%s", zpath, st.name) < 0)
		return errf(e, "out of memory");
	int rc = 0;
	unsigned char *buf = NULL;
	if (!(st.valid & ZIP_STAT_SIZE) || st.size > MAX_MEMBER_BYTES) {
		rc = binary_name(mname) ? add_skip(r, e, mname, "member too large to read")
				       : (r->ignored++, 0);
	} else if (!(rc = read_member(r, z, i, mname, st.size, &buf, e))) {
		if (is_elf_magic(buf, st.size))
			rc = hs_scan_image(r, mname, buf, st.size, e);
		else if (binary_name(mname))
			rc = add_skip(r, e, mname, "not an ELF file");
		else
			r->ignored++;
	}
	free(buf);
	free(mname);
	return rc < 0 ? -1 : 0;
}

static int scan_zip(struct hs_report *r, const char *path, errbuf *e)
{
	int err = 0;
	zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
	if (!z) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, err);
		int rc = add_skip(r, e, path, "corrupt zip archive: %s",
				  zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return rc;
	}
	zip_int64_t n = zip_get_num_entries(z, 0);
	int rc = 0;
	for (zip_int64_t i = 0; i < n && !rc; i++)
		rc = scan_member(r, z, (zip_uint64_t)i, path, e);
	zip_discard(z);
	return rc;
}
#else
/* The static build (Makefile STATIC=1): Debian ships no libzip.a. */
static int scan_zip(struct hs_report *r, const char *path, errbuf *e)
{
	return add_skip(r, e, path, "wheel/zip archives need libzip, which "
			"this static contend is built without; unpack it and "
			"scan the directory");
}
#endif

/* Files and directories already seen in this scan, by device and inode:
 * a library reached through its soname link is scanned once. An open
 * addressing hash set, since a tree can hold hundreds of thousands. */
struct seen {
	struct devino {
		dev_t dev;
		ino_t ino;
		int used;
	} *v;
	size_t n, cap; /* cap: a power of two, or 0 */
};

static size_t devino_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Slot of (dev, ino), or of the empty slot where it would go. */
static struct devino *seen_slot(const struct seen *s, dev_t dev, ino_t ino)
{
	size_t i = devino_hash(dev, ino, s->cap);
	while (s->v[i].used && (s->v[i].dev != dev || s->v[i].ino != ino))
		i = (i + 1) & (s->cap - 1);
	return &s->v[i];
}

static int seen_grow(struct seen *s)
{
	struct seen bigger = {calloc(s->cap ? s->cap * 2 : 256, sizeof *s->v), s->n,
			      s->cap ? s->cap * 2 : 256};
	if (!bigger.v)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i].used)
			*seen_slot(&bigger, s->v[i].dev, s->v[i].ino) = s->v[i];
	free(s->v);
	*s = bigger;
	return 0;
}

static int seen_check_add(struct seen *s, const struct stat *st, int *was)
{
	if ((s->n + 1) * 2 > s->cap && seen_grow(s))
		return -1;
	struct devino *d = seen_slot(s, st->st_dev, st->st_ino);
	*was = d->used;
	if (!d->used) {
		*d = (struct devino){st->st_dev, st->st_ino, 1};
		s->n++;
	}
	return 0;
}

static int scan_file(struct hs_report *r, const char *path, int explicit,
		     errbuf *e)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return add_skip(r, e, path, "%s", strerror(errno));
	unsigned char magic[4];
	ssize_t n = pread(fd, magic, sizeof magic, 0);
	int rc = 0;
	if (n < 0) {
		rc = add_skip(r, e, path, "%s", strerror(errno));
	} else if (is_elf_magic(magic, (size_t)n)) {
		elf_version(EV_CURRENT);
		Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
		if (!elf) {
			rc = add_skip(r, e, path, "corrupt ELF: %s",
				      elf_why("unreadable"));
		} else {
			rc = scan_elf(r, path, elf, e);
			elf_end(elf);
		}
	} else if (is_zip_magic(magic, (size_t)n) || zip_name(path)) {
		rc = scan_zip(r, path, e);
	} else if (explicit || binary_name(path)) {
		rc = add_skip(r, e, path, "not an ELF file or wheel/zip archive");
	} else {
		r->ignored++;
	}
	close(fd);
	return rc;
}

/* The directories between the top and here, to tell a loop (a symlink
 * back to an ancestor) from a directory merely reached twice. */
struct ancestor {
	const struct ancestor *up;
	dev_t dev;
	ino_t ino;
};

static int scan_node(struct hs_report *r, const char *path, int explicit,
		     const struct ancestor *up, struct seen *seen, errbuf *e);

static int scan_dir(struct hs_report *r, const char *path,
		    const struct stat *st, const struct ancestor *up,
		    struct seen *seen, errbuf *e)
{
	for (const struct ancestor *a = up; a; a = a->up)
		if (a->dev == st->st_dev && a->ino == st->st_ino)
			return add_skip(r, e, path,
					"symlink loop: directory already being scanned");
	int was;
	if (seen_check_add(seen, st, &was))
		return errf(e, "out of memory");
	if (was)
		return 0;
	struct dirent **list;
	int n = scandir(path, &list, NULL, alphasort);
	if (n < 0)
		return add_skip(r, e, path, "%s", strerror(errno));
	struct ancestor me = {up, st->st_dev, st->st_ino};
	size_t plen = strlen(path);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *d = list[i]->d_name;
		if (!rc && strcmp(d, ".") && strcmp(d, "..")) {
			char *child = NULL;
			if (asprintf(&child, "%s%s%s", path,
				     plen && path[plen - 1] == '/' ? "" : "/", d) < 0)
				rc = errf(e, "out of memory");
			else
				rc = scan_node(r, child, 0, &me, seen, e);
			free(child);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int scan_node(struct hs_report *r, const char *path, int explicit,
		     const struct ancestor *up, struct seen *seen, errbuf *e)
{
	struct stat st, lst;
	int is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
	if (stat(path, &st) < 0) {
		int err = errno;
		if (is_link && (err == ENOENT || err == ENOTDIR))
			return add_skip(r, e, path, "broken symlink");
		if (err == ELOOP)
			return add_skip(r, e, path, "symlink loop");
		return add_skip(r, e, path, "%s", strerror(err));
	}
	/* A walk stays inside the tree it was given: a link to a directory
	 * can lead anywhere (/proc/self/root, a link to /), so it is noted
	 * and not followed. A PATH the user named is followed. */
	if (S_ISDIR(st.st_mode) && is_link && !explicit)
		return add_skip(r, e, path, "symlink to a directory: not followed");
	if (S_ISDIR(st.st_mode))
		return scan_dir(r, path, &st, up, seen, e);
	if (!S_ISREG(st.st_mode))
		return explicit ? add_skip(r, e, path, "not a regular file") : 0;
	int was;
	if (seen_check_add(seen, &st, &was))
		return errf(e, "out of memory");
	return was ? 0 : scan_file(r, path, explicit, e);
}

int hs_scan_path(struct hs_report *r, const char *path, errbuf *e)
{
	struct stat lst;
	if (lstat(path, &lst) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return errf(e, "%s: no such file or directory", path);
	struct seen seen = {0};
	int rc = scan_node(r, path, 1, NULL, &seen, e);
	free(seen.v);
	return rc;
}

/* The file of one /proc/PID/maps line: the path after the inode field,
 * or NULL for anonymous and special ([heap], [vdso]) mappings. A file
 * deleted since it was mapped ends in " (deleted)"; it is cut off here
 * and the open then fails with a reason. */
static char *maps_path(char *line)
{
	line[strcspn(line, "\n")] = 0;
	int fields = 0;
	char *p = line;
	while (*p && fields < 5) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
		fields++;
	}
	if (*p != '/')
		return NULL;
	size_t n = strlen(p);
	static const char deleted[] = " (deleted)";
	if (n > sizeof deleted - 1 &&
	    !strcmp(p + n - (sizeof deleted - 1), deleted))
		p[n - (sizeof deleted - 1)] = 0;
	return p;
}

int hs_scan_pid(struct hs_report *r, long pid, errbuf *e)
{
	char maps[64];
	snprintf(maps, sizeof maps, "/proc/%ld/maps", pid);
	FILE *f = fopen(maps, "re");
	if (!f) {
		if (errno == ENOENT)
			return errf(e, "no process %ld", pid);
		if (errno == EACCES || errno == EPERM)
			return errf(e, "%s: permission denied (the process belongs "
				    "to another user: run as that user or root)",
				    maps);
		return errf(e, "%s: %s", maps, strerror(errno));
	}
	struct seen seen = {0};
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	errno = 0;
	while (!rc && getline(&line, &cap, f) > 0) {
		char *path = maps_path(line);
		/* Data files are mapped too (locale archives, caches): only
		 * ELF files and names promising a binary are reported. */
		if (path)
			rc = scan_node(r, path, 0, NULL, &seen, e);
	}
	/* A process that exits mid-read leaves a short maps; a read error
	 * (EACCES from the ptrace check happens here, not at open) fails. */
	if (!rc && ferror(f))
		rc = errno == EACCES || errno == EPERM
			     ? errf(e, "%s: permission denied (the process belongs "
				    "to another user: run as that user or root)",
				    maps)
			     : errf(e, "%s: %s", maps, strerror(errno));
	free(line);
	free(seen.v);
	fclose(f);
	return rc;
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *kinds_json(unsigned kinds)
{
	json_t *a = json_array();
	for (int k = 0; k < HK_NKINDS && a; k++)
		if (kinds & HK_BIT(k))
			json_array_append_new(a, json_string(kind_names[k]));
	return a;
}

static json_t *binary_json(const struct hs_binary *b)
{
	json_t *syms = json_array();
	for (size_t i = 0; i < b->nsyms && syms; i++)
		json_array_append_new(
			syms, json_pack("{s:s, s:s, s:b}", "name", b->syms[i].name,
					"kind", hook_kind_name(b->syms[i].kind),
					"defined", b->syms[i].defined));
	json_t *gil = b->gil_counted
			      ? json_pack("{s:I, s:I, s:I}", "PyGILState_Ensure",
					  (json_int_t)b->gil_ensure,
					  "PyGILState_Release",
					  (json_int_t)b->gil_release, "total",
					  (json_int_t)(b->gil_ensure + b->gil_release))
			      : json_null();
	json_t *funcs = json_array();
	for (size_t i = 0; i < b->lock_funcs.shown && funcs; i++)
		json_array_append_new(funcs, json_string(b->lock_funcs.names[i]));
	json_t *regions = json_pack(
		"{s:I, s:I, s:I, s:I}", "harmful", (json_int_t)b->regions_harmful,
		"legitimate", (json_int_t)b->regions_benign, "not_followed",
		(json_int_t)b->regions_unresolved, "trace_tests",
		(json_int_t)b->trace_tests);
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:I, s:b, s:b, s:o, s:o, s:o, "
		"s:I, s:b}",
		"path", b->path, "arch", b->arch, "type", b->type, "kinds",
		kinds_json(b->kinds), "verdict", hs_verdict_name(b->verdict),
		"message", hs_verdict_message(b), "symbols", syms,
		"symbols_total", (json_int_t)b->symbols_total, "symbols_truncated",
		b->symbols_total > b->nsyms, "stripped", b->stripped,
		"gil_call_sites", gil, "lock_regions", regions,
		"lock_per_call_functions", funcs, "lock_per_call_total",
		(json_int_t)b->lock_funcs.count, "found_by_structure", b->shape_found);
	if (o && b->note[0])
		json_object_set_new(o, "note", json_string(b->note));
	return o;
}

json_t *hs_report_json(const struct hs_report *r)
{
	json_t *bins = json_array(), *skips = json_array();
	for (size_t i = 0; i < r->nbins && bins; i++)
		json_array_append_new(bins, binary_json(&r->bins[i]));
	for (size_t i = 0; i < r->nskips && skips; i++)
		json_array_append_new(skips,
				      json_pack("{s:s, s:s}", "path", r->skips[i].path,
						"reason", r->skips[i].reason));
	return json_pack("{s:s, s:i, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:o}}",
			 "command", "scan", "schema", 2, "binaries", bins,
			 "skipped", skips, "summary", "scanned",
			 (json_int_t)r->nbins, "with_instrumentation",
			 (json_int_t)hs_report_instrumented(r), "stripped",
			 (json_int_t)hs_report_stripped(r), "harmful",
			 (json_int_t)hs_report_count(r, HV_HARMFUL), "unknown",
			 (json_int_t)hs_report_count(r, HV_UNKNOWN), "skipped",
			 (json_int_t)r->nskips, "ignored_non_elf",
			 (json_int_t)r->ignored, "kinds",
			 kinds_json(hs_report_kinds(r)));
}

/* ---- one verdict for other parts of contend --------------------------- */

int hookscan_verdict_of(const char *path, enum hs_verdict *verdict,
			struct hs_lock_funcs *functions, errbuf *e)
{
	struct hs_report r;
	hs_report_init(&r);
	if (hs_scan_path(&r, path, e)) {
		hs_report_free(&r);
		return -1;
	}
	if (!r.nbins) {
		int rc = r.nskips ? errf(e, "%s: %s", r.skips[0].path, r.skips[0].reason)
				  : errf(e, "%s: no ELF binary in it", path);
		hs_report_free(&r);
		return rc;
	}
	const struct hs_binary *worst = &r.bins[0];
	for (size_t i = 1; i < r.nbins; i++)
		if (r.bins[i].verdict < worst->verdict)
			worst = &r.bins[i];
	*verdict = worst->verdict;
	if (functions)
		*functions = worst->lock_funcs;
	hs_report_free(&r);
	return 0;
}
