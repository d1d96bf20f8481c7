/* interference.c - the busy mark and the test verdicts ask (see
 * interference.h). */
#include "analysis/interference.h"

#include <math.h>
#include <stdio.h>

#include "document/doc.h"

double interference_taken(json_t *config)
{
	return doc_figure(config, "interference.taken_cores", NAN);
}

/* Taken time that the ticks' blur cannot make: a tick per CPU at each end
 * of each window, adding up like independent errors over n windows. */
static int beyond_blur(json_t *o, double n)
{
	double taken = doc_num(o, "other_cpu_s", NAN) + doc_num(o, "steal_s", 0);
	double blur = doc_num(o, "resolution_s", 0) * 2 * sqrt(n > 1 ? n : 1);
	return isfinite(taken) && taken > blur;
}

static int busy_object(json_t *o, double n)
{
	return doc_num(o, "taken_cores", 0) >= INTERFERENCE_BUSY_CORES &&
	       beyond_blur(o, n);
}

void interference_mark(json_t *config)
{
	json_t *sum = json_object_get(config, "interference"), *rep;
	size_t i;
	if (!json_is_object(sum) || !isfinite(doc_num(sum, "taken_cores", NAN)))
		return;
	json_t *busy_reps = json_array();
	json_array_foreach(json_object_get(config, "reps"), i, rep)
		if (busy_object(json_object_get(rep, "interference"), 1))
			json_array_append_new(busy_reps, json_integer((json_int_t)i));
	json_object_set_new(sum, "busy",
			    json_boolean(busy_object(sum, doc_num(sum, "reps", 1))));
	json_object_set_new(sum, "threshold_cores", json_real(INTERFERENCE_BUSY_CORES));
	json_object_set_new(sum, "busy_reps", busy_reps);
}

int interference_busy(json_t *config)
{
	return doc_bool(json_object_get(config, "interference"), "busy", 0);
}

int interference_explains(json_t *a, json_t *b)
{
	return interference_busy(a) || (b && interference_busy(b));
}

void interference_phrase(json_t *config, char *buf, size_t len)
{
	double t = interference_taken(config);
	if (!isfinite(t))
		snprintf(buf, len, "an unknown share of the machine");
	else if (t < 0.995)
		snprintf(buf, len, "%.0f %% of a core", t * 100);
	else
		snprintf(buf, len, "%.1f cores", t);
}

double interference_document(json_t *doc, size_t *nbusy)
{
	json_t *c;
	size_t i;
	double most = NAN;
	*nbusy = 0;
	doc_foreach_config(doc, i, c) {
		double t = interference_taken(c);
		if (isfinite(t) && !(t <= most))
			most = t;
		*nbusy += interference_busy(c) != 0;
	}
	return most;
}
