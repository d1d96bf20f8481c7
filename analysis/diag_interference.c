/* diag_interference.c - the interference rule, run first: configurations
 * measured while other programs took the machine (the interference probe,
 * analysis/interference.h), and those whose speedup or slowdown rests on
 * such a row (a busy baseline, a slower flag whose other side was busy).
 *
 * Evidence: config.interference.busy (other programs took at least
 * INTERFERENCE_BUSY_CORES over the repetitions, beyond the ticks' blur),
 * slower.cause "interference", interference.superlinear. The rules that
 * have only the timing to go on (serial work, start-up, "no cause found")
 * defer to it through diag_timing_to_explain(): no core or serial-work
 * cause is given for what another program did. Rules with evidence of
 * their own (lock waits and their rate, thread counts, memory) still
 * speak beside it.
 */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/interference.h"
#include "document/doc.h"

/* Busy itself, or its figure leans on a busy row. */
static int explained(struct diag_ctx *ctx, json_t *c)
{
	return interference_busy(c) ||
	       !strcmp(doc_str(json_object_get(c, "slower"), "cause", ""), "interference") ||
	       doc_bool(json_object_get(c, "interference"), "superlinear", 0) ||
	       (doc_workers(c) > 1 && interference_busy(diag_baseline(ctx, c)));
}

static int run(struct diag_ctx *ctx)
{
	json_t *c, *busiest = NULL, *configs = json_array();
	size_t i, busy = 0, all = 0;
	doc_foreach_config(ctx->doc, i, c) {
		all++;
		if (!explained(ctx, c))
			continue;
		json_array_append_new(configs, json_string(doc_str(c, "id", "")));
		busy += interference_busy(c) != 0;
		if (interference_busy(c) &&
		    (!busiest || interference_taken(c) > interference_taken(busiest)))
			busiest = c;
	}
	if (!json_array_size(configs) || !busiest) {
		json_decref(configs);
		return 0;
	}
	char taken[48], ev[1200], label[600];
	interference_phrase(busiest, taken, sizeof taken);
	diag_config_label(busiest, label, sizeof label);
	snprintf(ev, sizeof ev, "%zu of %zu configurations were measured while "
		 "other programs took the machine (up to %s, %s)%s: their times, "
		 "and the speedups and slowdowns resting on them, are the "
		 "machine's as much as the code's", busy, all, taken, label,
		 json_array_size(configs) > busy ? "; the others' ratios rest on "
		 "a busy row" : "");
	json_t *en = diag_add(ctx, DC_INTERFERENCE, configs, ev,
			      "measure again on an idle machine (the table marks "
			      "busy rows); on a shared runner, reserve the cores "
			      "or run when it is quiet", NULL, NULL);
	if (en)
		json_object_set_new(en, "taken_cores",
				    json_real(interference_taken(busiest)));
	diag_evidence_from(en, busiest);
	return 1;
}

const struct diag_rule diag_rule_interference = {
	.name = "interference",
	.looked_at = "CPU time other programs took during the repetitions",
	.run = run,
};
