/* diag_serial.c - the serial-work rule, run last: configurations that
 * gained nothing and kept no more cores busy than one worker did, which
 * no more specific rule explained.
 *
 * Evidence: less than 10 % gained, and cores busy (CPU seconds / wall seconds) at N workers within
 * SERIAL_BUSY_RATIO of the 1-worker run's: the workers took turns. A run
 * whose CPU time grew instead is not serial work (see diag_startup.c).
 * Where even one worker was mostly off the CPU, the evidence and advice
 * say the work waited (for I/O, sleeps, another process) instead. */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>

#include "document/doc.h"

#define SERIAL_BUSY_RATIO 1.25
#define SERIAL_GAIN_MAX 1.1 /* a configuration that gained more ran partly
			     * in parallel: not serial work */
/* One worker on a CPU less than this share of the wall time: the work
 * mostly waited (I/O, sleeps, another process), which is what to look
 * for first, rather than a serial part of the computing. */
#define SERIAL_WAITING_BUSY 0.5

static const char advice_turns[] =
	"the work ran one part at a time: either its parallel part is small "
	"next to a serial one (start-up, imports, reading the input: time the "
	"parts), or something makes the workers take turns that contend does "
	"not see (a lock taken through a futex or semaphore such as Python's "
	"threading.Lock, one producer feeding the tasks, I/O)";
static const char advice_waits[] =
	"find what the work waits for: I/O (disk, network, a pipe), sleeps or "
	"timeouts, another process it hands the work to, or a lock contend does "
	"not see (a futex or semaphore such as Python's threading.Lock); more "
	"workers help only where those waits can overlap";

static int run(struct diag_ctx *ctx)
{
	json_t *c, *worst = NULL, *configs = json_array();
	size_t i;
	doc_foreach_config(ctx->doc, i, c) {
		json_t *one = diag_baseline(ctx, c);
		double busy = doc_num(c, "cpu_util", NAN);
		double busy1 = one ? doc_num(one, "cpu_util", NAN) : NAN;
		if (!diag_timing_to_explain(ctx, c) ||
		    !(doc_num(c, "speedup", NAN) < SERIAL_GAIN_MAX) ||
		    diag_found(ctx, DC_NCAUSES, doc_str(c, "id", "")) ||
		    !isfinite(busy) || !isfinite(busy1) ||
		    busy > SERIAL_BUSY_RATIO * busy1)
			continue;
		json_array_append_new(configs, json_string(doc_str(c, "id", "")));
		if (!worst || doc_num(c, "speedup", NAN) < doc_num(worst, "speedup", NAN))
			worst = c;
	}
	if (!worst) {
		json_decref(configs);
		return 0;
	}
	json_t *one = diag_baseline(ctx, worst);
	char ev[1200], label[600];
	double busy1 = doc_num(one, "cpu_util", NAN);
	int waited = busy1 < SERIAL_WAITING_BUSY;
	diag_config_label(worst, label, sizeof label);
	if (waited)
		snprintf(ev, sizeof ev, "%s ran %.2fx as fast as 1 worker and kept "
			 "%.2f cores busy (1 worker: %.2f): even one worker was on "
			 "a CPU only %.0f %% of its time, so the work mostly waited, "
			 "and more workers did not wait less; no lock wait, thread "
			 "count or memory figure measured here explains it", label,
			 doc_num(worst, "speedup", NAN),
			 doc_num(worst, "cpu_util", NAN), busy1, 100 * busy1);
	else
		snprintf(ev, sizeof ev, "%s ran %.2fx as fast as 1 worker and kept "
			 "%.2f cores busy (1 worker: %.2f): no more cores than 1 "
			 "worker used; no lock wait, thread count or memory figure "
			 "measured here explains it", label,
			 doc_num(worst, "speedup", NAN),
			 doc_num(worst, "cpu_util", NAN), busy1);
	diag_evidence_from(diag_add(ctx, DC_SERIAL_WORK, configs, ev,
				    waited ? advice_waits : advice_turns, NULL,
				    NULL), worst);
	return 1;
}

const struct diag_rule diag_rule_serial = {
	.name = "serial-work",
	.looked_at = "cores kept busy against 1 worker",
	.run = run,
};
