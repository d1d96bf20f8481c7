/* hookshape.c - follow the branches of machine code from a lock call, a
 * thread-state read or a function entry, to tell the trace-hook shapes of
 * hookshape.h apart. A path walk with a budget, not a full control-flow
 * graph: the shapes are a few instructions long and sit next to the call
 * that starts them. */
#include "probes/hookshape.h"

#include <stdlib.h>
#include <string.h>

/* Instructions decoded per walk, and paths remembered. A lock region of
 * a real module (a memoryview reference count, a `with gil` raise) ends
 * in tens of instructions; one that runs past this is not judged. */
#define WALK_BUDGET 768
#define WALK_PATHS 128
#define SEEN_SLOTS 4096 /* power of two, > WALK_BUDGET * 2 states */
#define TEST_BUDGET 24	/* the tracing test follows its read closely */
#define ENTRY_BUDGET 96 /* prologue up to the first call */

/* The lock counts as taken for the tracing check alone when the test (or
 * hook call) comes within this many instructions of the Ensure and the
 * Release within as many of the test, with no other call between. A
 * `cdef ... with gil` function also tests the flag right after its Ensure
 * (its own trace call) and again just before its Release (the trace
 * return), but runs its body in between. */
#define MARK_WINDOW 24

enum {
	ST_FRESH,  /* lock just taken, nothing else called yet */
	ST_HELD,   /* lock held for something else */
	ST_TESTED, /* tracing tested while fresh */
	ST_PRE,	   /* M_ENTRY: before the first call */
};

/* Which registers hold the thread state (level 0), a pointer loaded from
 * it (1: tstate->cframe) and a narrow value loaded from that (2:
 * cframe->use_tracing), as bit masks of canonical register numbers. */
struct regs {
	uint64_t lv[3];
};

struct path {
	uint64_t addr;
	int state;
	int since; /* instructions since the Ensure or the test */
	struct regs r;
};

struct walker {
	const struct hs_code *c;
	cs_insn *in;
	struct path stack[WALK_PATHS];
	size_t n;
	uint64_t seen[SEEN_SLOTS]; /* (addr << 2 | state) + 1, 0 = empty */
	int budget;
	int overflow;
};

/* ---- registers ------------------------------------------------------- */

static int canon_x86(unsigned r)
{
	static const struct {
		unsigned reg;
		int n;
	} map[] = {
		{X86_REG_RAX, 0}, {X86_REG_EAX, 0}, {X86_REG_AX, 0}, {X86_REG_AL, 0},
		{X86_REG_AH, 0},  {X86_REG_RCX, 1}, {X86_REG_ECX, 1}, {X86_REG_CX, 1},
		{X86_REG_CL, 1},  {X86_REG_CH, 1},  {X86_REG_RDX, 2}, {X86_REG_EDX, 2},
		{X86_REG_DX, 2},  {X86_REG_DL, 2},  {X86_REG_DH, 2},  {X86_REG_RBX, 3},
		{X86_REG_EBX, 3}, {X86_REG_BX, 3},  {X86_REG_BL, 3},  {X86_REG_BH, 3},
		{X86_REG_RSP, 4}, {X86_REG_ESP, 4}, {X86_REG_SP, 4},  {X86_REG_SPL, 4},
		{X86_REG_RBP, 5}, {X86_REG_EBP, 5}, {X86_REG_BP, 5},  {X86_REG_BPL, 5},
		{X86_REG_RSI, 6}, {X86_REG_ESI, 6}, {X86_REG_SI, 6},  {X86_REG_SIL, 6},
		{X86_REG_RDI, 7}, {X86_REG_EDI, 7}, {X86_REG_DI, 7},  {X86_REG_DIL, 7},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].reg == r)
			return map[i].n;
	static const unsigned r64[] = {X86_REG_R8,  X86_REG_R9,  X86_REG_R10,
				       X86_REG_R11, X86_REG_R12, X86_REG_R13,
				       X86_REG_R14, X86_REG_R15};
	static const unsigned r32[] = {X86_REG_R8D,  X86_REG_R9D,  X86_REG_R10D,
				       X86_REG_R11D, X86_REG_R12D, X86_REG_R13D,
				       X86_REG_R14D, X86_REG_R15D};
	static const unsigned r16[] = {X86_REG_R8W,  X86_REG_R9W,  X86_REG_R10W,
				       X86_REG_R11W, X86_REG_R12W, X86_REG_R13W,
				       X86_REG_R14W, X86_REG_R15W};
	static const unsigned r8[] = {X86_REG_R8B,  X86_REG_R9B,  X86_REG_R10B,
				      X86_REG_R11B, X86_REG_R12B, X86_REG_R13B,
				      X86_REG_R14B, X86_REG_R15B};
	for (int i = 0; i < 8; i++)
		if (r == r64[i] || r == r32[i] || r == r16[i] || r == r8[i])
			return 8 + i;
	return -1;
}

static int canon_a64(unsigned r)
{
	if (r >= ARM64_REG_W0 && r <= ARM64_REG_W30)
		return (int)(r - ARM64_REG_W0);
	if (r >= ARM64_REG_X0 && r <= ARM64_REG_X28)
		return (int)(r - ARM64_REG_X0);
	if (r == ARM64_REG_X29)
		return 29;
	if (r == ARM64_REG_X30)
		return 30;
	return -1;
}

static int canon(const struct hs_code *c, unsigned r)
{
	return c->x86 ? canon_x86(r) : canon_a64(r);
}

static int level_of(const struct regs *g, int n)
{
	if (n < 0)
		return -1;
	for (int l = 0; l < 3; l++)
		if (g->lv[l] & (1ULL << n))
			return l;
	return -1;
}

static void set_level(struct regs *g, int n, int l)
{
	if (n < 0)
		return;
	for (int k = 0; k < 3; k++)
		g->lv[k] &= ~(1ULL << n);
	if (l >= 0 && l < 3)
		g->lv[l] |= 1ULL << n;
}

/* A load into `dst` from [base + disp] of `size` bytes: tstate ->
 * pointer (8 bytes) -> narrow flag (at most 4 bytes). */
static void load(struct regs *g, int dst, int base_level, unsigned size)
{
	int l = base_level < 0 ? -1 : base_level + 1;
	if (l == 1 && size != 8)
		l = -1;
	if (l == 2 && size > 4)
		l = -1;
	set_level(g, dst, l);
}

/* ---- one instruction's effect ---------------------------------------- */

/* Returns 1 when the instruction tests the tracing flag. */
static int step_x86(const struct hs_code *c, struct regs *g, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	if (in->id == X86_INS_CMP || in->id == X86_INS_TEST) {
		for (int i = 0; i < x->op_count; i++) {
			const cs_x86_op *o = &x->operands[i];
			if (o->type == X86_OP_MEM && o->size <= 4 &&
			    o->mem.index == X86_REG_INVALID &&
			    level_of(g, canon(c, o->mem.base)) == 1)
				return 1;
			if (o->type == X86_OP_REG && level_of(g, canon(c, o->reg)) == 2)
				return 1;
		}
		return 0;
	}
	int dst = x->op_count >= 1 && x->operands[0].type == X86_OP_REG
			  ? canon(c, x->operands[0].reg)
			  : -1;
	int is_mov = in->id == X86_INS_MOV || in->id == X86_INS_MOVZX ||
		     in->id == X86_INS_MOVSX || in->id == X86_INS_MOVSXD;
	if (is_mov && dst >= 0 && x->op_count == 2) {
		const cs_x86_op *s = &x->operands[1];
		if (s->type == X86_OP_MEM && s->mem.index == X86_REG_INVALID &&
		    s->mem.segment == X86_REG_INVALID) {
			load(g, dst, level_of(g, canon(c, s->mem.base)), s->size);
			return 0;
		}
		if (s->type == X86_OP_REG) {
			set_level(g, dst, level_of(g, canon(c, s->reg)));
			return 0;
		}
	}
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	if (cs_regs_access(c->cs, in, rd, &nrd, wr, &nwr) == CS_ERR_OK)
		for (int i = 0; i < nwr; i++)
			set_level(g, canon(c, wr[i]), -1);
	else if (dst >= 0)
		set_level(g, dst, -1);
	return 0;
}

static int narrow_load_a64(unsigned id)
{
	return id == ARM64_INS_LDRB || id == ARM64_INS_LDRH ||
	       id == ARM64_INS_LDRSB || id == ARM64_INS_LDRSH ||
	       id == ARM64_INS_LDURB || id == ARM64_INS_LDURH;
}

static int step_a64(const struct hs_code *c, struct regs *g, const cs_insn *in)
{
	const cs_arm64 *a = &in->detail->arm64;
	if (!a->op_count || a->operands[0].type != ARM64_OP_REG)
		return 0;
	int r0 = canon(c, a->operands[0].reg);
	switch (in->id) {
	case ARM64_INS_CBZ:
	case ARM64_INS_CBNZ:
	case ARM64_INS_TBZ:
	case ARM64_INS_TBNZ:
	case ARM64_INS_CMP:
	case ARM64_INS_TST:
		return level_of(g, r0) == 2;
	case ARM64_INS_MOV:
		if (a->op_count == 2 && a->operands[1].type == ARM64_OP_REG) {
			set_level(g, r0, level_of(g, canon(c, a->operands[1].reg)));
			return 0;
		}
		break;
	case ARM64_INS_LDR:
	case ARM64_INS_LDUR:
	case ARM64_INS_LDRB:
	case ARM64_INS_LDRH:
	case ARM64_INS_LDRSB:
	case ARM64_INS_LDRSH:
	case ARM64_INS_LDURB:
	case ARM64_INS_LDURH:
		if (a->op_count == 2 && a->operands[1].type == ARM64_OP_MEM &&
		    a->operands[1].mem.index == ARM64_REG_INVALID) {
			unsigned r = a->operands[0].reg;
			unsigned size = narrow_load_a64(in->id) ? 1
					: (r >= ARM64_REG_W0 && r <= ARM64_REG_W30) ? 4
										    : 8;
			load(g, r0, level_of(g, canon(c, a->operands[1].mem.base)), size);
			return 0;
		}
		break;
	}
	if (a->operands[0].access & CS_AC_WRITE)
		set_level(g, r0, -1);
	return 0;
}

/* ---- control flow ---------------------------------------------------- */

enum flow { FL_NEXT, FL_CALL, FL_JUMP, FL_COND, FL_END };

static enum flow flow_x86(const struct hs_code *c, const cs_insn *in,
			  uint64_t *target)
{
	const cs_x86 *x = &in->detail->x86;
	int imm = x->op_count == 1 && x->operands[0].type == X86_OP_IMM;
	if (imm)
		*target = (uint64_t)x->operands[0].imm;
	if (cs_insn_group(c->cs, in, CS_GRP_CALL))
		return FL_CALL;
	if (cs_insn_group(c->cs, in, CS_GRP_RET) || in->id == X86_INS_HLT ||
	    in->id == X86_INS_UD2 || in->id == X86_INS_INT3)
		return FL_END;
	if (in->id == X86_INS_JMP)
		return imm ? FL_JUMP : FL_END;
	if (cs_insn_group(c->cs, in, CS_GRP_JUMP))
		return imm ? FL_COND : FL_END;
	return FL_NEXT;
}

static enum flow flow_a64(const cs_insn *in, uint64_t *target)
{
	const cs_arm64 *a = &in->detail->arm64;
	int last = a->op_count ? a->op_count - 1 : 0;
	if (a->op_count && a->operands[last].type == ARM64_OP_IMM)
		*target = (uint64_t)a->operands[last].imm;
	switch (in->id) {
	case ARM64_INS_BL:
	case ARM64_INS_BLR:
		return FL_CALL;
	case ARM64_INS_RET:
	case ARM64_INS_BR:
	case ARM64_INS_BRK:
		return FL_END;
	case ARM64_INS_B:
		return a->cc == ARM64_CC_INVALID || a->cc == ARM64_CC_AL ? FL_JUMP
									 : FL_COND;
	case ARM64_INS_CBZ:
	case ARM64_INS_CBNZ:
	case ARM64_INS_TBZ:
	case ARM64_INS_TBNZ:
		return FL_COND;
	}
	return FL_NEXT;
}

/* rax and x0, where a call returns the thread state, are both register 0
 * in canon()'s numbering. */
#define RET_REG 0

/* ---- the walker ------------------------------------------------------ */

static const struct hs_span *span_of(const struct hs_code *c, uint64_t a)
{
	for (size_t i = 0; i < c->nspans; i++)
		if (a >= c->spans[i].addr && a - c->spans[i].addr < c->spans[i].size)
			return &c->spans[i];
	return NULL;
}

static int decode(struct walker *w, uint64_t addr)
{
	const struct hs_span *s = span_of(w->c, addr);
	if (!s)
		return 0;
	const uint8_t *code = s->bytes + (addr - s->addr);
	size_t size = s->size - (addr - s->addr);
	return cs_disasm_iter(w->c->cs, &code, &size, &addr, w->in);
}

/* Remember a path to follow; 0 when it was followed already. */
static int push(struct walker *w, uint64_t addr, int state, int since,
		const struct regs *g)
{
	uint64_t key = ((addr << 2) | (uint64_t)state) + 1;
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 52) & (SEEN_SLOTS - 1);
	while (w->seen[h] && w->seen[h] != key)
		h = (h + 1) & (SEEN_SLOTS - 1);
	if (w->seen[h])
		return 0;
	if (w->n == WALK_PATHS) {
		w->overflow = 1;
		return 0;
	}
	w->seen[h] = key;
	w->stack[w->n++] = (struct path){addr, state, since, *g};
	return 1;
}

static int walker_open(struct walker *w, const struct hs_code *c, int budget)
{
	memset(w->seen, 0, sizeof w->seen);
	w->c = c;
	w->n = 0;
	w->budget = budget;
	w->overflow = 0;
	w->in = cs_malloc(c->cs);
	return w->in ? 0 : -1;
}

static void walker_close(struct walker *w)
{
	cs_free(w->in, 1);
}

/* The walk as one function with three modes (region, test, entry), since
 * they differ only in what a call and a test mean. */
enum mode { M_REGION, M_TEST, M_ENTRY };

struct outcome {
	int harmful, unresolved, tested;
	uint64_t ensure_next; /* M_ENTRY: after the first call, if an Ensure */
	int other_call;	      /* M_ENTRY: some path called something else first */
};

/* A call on a path; returns 0 when the path ends here. */
static int on_call(struct walker *w, enum mode m, struct path *p,
		   enum hs_role role, struct outcome *o)
{
	uint64_t next = w->in->address + w->in->size;
	if (m == M_ENTRY) {
		if (role == HR_ENSURE && !o->ensure_next)
			o->ensure_next = next;
		else if (role != HR_ENSURE && role != HR_NORETURN)
			o->other_call = 1;
		return 0;
	}
	if (m == M_TEST)
		return 0;
	switch (role) {
	case HR_RELEASE:
		if (p->state == ST_TESTED)
			o->harmful = 1;
		return 0;
	case HR_HOOK:
		if (p->state != ST_HELD) {
			p->state = ST_TESTED;
			p->since = 0;
		}
		memset(&p->r, 0, sizeof p->r);
		break;
	case HR_NORETURN:
		return 0;
	case HR_TSTATE:
		memset(&p->r, 0, sizeof p->r);
		set_level(&p->r, RET_REG, 0);
		break;
	default:
		p->state = ST_HELD;
		memset(&p->r, 0, sizeof p->r);
	}
	p->addr = next;
	return 1;
}

/* Follow one path until it ends, branches or runs out of budget. */
static void follow(struct walker *w, enum mode m, struct path p,
		   struct outcome *o)
{
	for (;;) {
		if (w->budget-- <= 0 || !decode(w, p.addr)) {
			o->unresolved = 1;
			return;
		}
		const cs_insn *in = w->in;
		uint64_t next = in->address + in->size, target = 0;
		enum flow f = w->c->x86 ? flow_x86(w->c, in, &target)
					: flow_a64(in, &target);
		if (f == FL_CALL || f == FL_JUMP) {
			enum hs_role role = w->c->role(w->c->ctx, in);
			if (f == FL_CALL || role != HR_NONE) {
				int go = on_call(w, m, &p, role, o);
				if (f == FL_JUMP && go) /* a tail call */
					o->unresolved |= m == M_REGION;
				if (!go || f == FL_JUMP)
					return;
				continue;
			}
		}
		int tested = w->c->x86 ? step_x86(w->c, &p.r, in)
				       : step_a64(w->c, &p.r, in);
		if ((p.state == ST_FRESH || p.state == ST_TESTED) &&
		    ++p.since > MARK_WINDOW)
			p.state = ST_HELD;
		if (tested) {
			o->tested = 1;
			if (m == M_TEST)
				return;
			if (p.state == ST_FRESH || p.state == ST_TESTED) {
				p.state = ST_TESTED;
				p.since = 0;
			}
		}
		switch (f) {
		case FL_END:
			/* a return with the lock held: released elsewhere */
			o->unresolved |= m == M_REGION;
			return;
		case FL_JUMP:
			if (m == M_ENTRY && target <= in->address)
				return; /* a loop: no longer the entry */
			push(w, target, p.state, p.since, &p.r);
			return;
		case FL_COND:
			if (!(m == M_ENTRY && target <= in->address))
				push(w, target, p.state, p.since, &p.r);
			break;
		default:
			break;
		}
		p.addr = next;
	}
}

static int walk(const struct hs_code *c, enum mode m, uint64_t start,
		int state, const struct regs *g, int budget, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	struct walker *w = malloc(sizeof *w); /* 40 KiB: not on the stack */
	if (!w || walker_open(w, c, budget)) {
		free(w);
		return -1;
	}
	push(w, start, state, 0, g);
	while (w->n && !(o->harmful || (m == M_TEST && o->tested))) {
		struct path p = w->stack[--w->n];
		follow(w, m, p, o);
	}
	if (w->overflow)
		o->unresolved = 1;
	walker_close(w);
	free(w);
	return 0;
}

enum hs_walk hs_walk_region(const struct hs_code *c, uint64_t start)
{
	struct regs g = {{0}};
	struct outcome o;
	if (walk(c, M_REGION, start, ST_FRESH, &g, WALK_BUDGET, &o))
		return HW_UNRESOLVED;
	return o.harmful ? HW_HARMFUL : o.unresolved ? HW_UNRESOLVED : HW_BENIGN;
}

int hs_walk_trace_test(const struct hs_code *c, uint64_t start)
{
	struct regs g = {{0}};
	set_level(&g, RET_REG, 0);
	struct outcome o;
	return !walk(c, M_TEST, start, ST_HELD, &g, TEST_BUDGET, &o) && o.tested;
}

int hs_walk_entry(const struct hs_code *c, uint64_t fn)
{
	struct regs g = {{0}};
	struct outcome o;
	if (walk(c, M_ENTRY, fn, ST_PRE, &g, ENTRY_BUDGET, &o) || !o.ensure_next ||
	    o.other_call)
		return 0;
	return hs_walk_region(c, o.ensure_next) == HW_HARMFUL;
}
