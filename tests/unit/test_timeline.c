/* The timeline on hand-built event streams: slices, instants and flows as
 * the engine's state machine reports them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/engine.h"
#include "engine/timeline.h"

#define PID 100
#define A 101
#define B 102
#define MAXREC 64

struct slice_rec {
	__u32 tid;
	enum timeline_slice_kind kind;
	unsigned int flags;
	__u64 start, end;
};

struct instant_rec {
	__u32 tid;
	enum timeline_instant_kind kind;
	__u64 ts;
	__u16 cpu;
};

struct flow_rec {
	enum timeline_flow_kind kind;
	__u64 id;
	__u32 from, to;
	__u64 from_ts, to_ts;
};

struct rec {
	struct slice_rec s[MAXREC];
	struct instant_rec i[MAXREC];
	struct flow_rec f[MAXREC];
	size_t ns, ni, nf;
};

static void on_slice(void *ctx, const struct timeline_slice *s)
{
	struct rec *r = ctx;

	assert_true(r->ns < MAXREC);
	r->s[r->ns++] = (struct slice_rec){ s->thread->tid, s->kind, s->flags, s->start, s->end };
}

static void on_instant(void *ctx, const struct timeline_instant *i)
{
	struct rec *r = ctx;

	assert_true(r->ni < MAXREC);
	r->i[r->ni++] = (struct instant_rec){ i->thread->tid, i->kind, i->ts, i->cpu };
}

static void on_flow(void *ctx, const struct timeline_flow *f)
{
	struct rec *r = ctx;

	assert_true(r->nf < MAXREC);
	r->f[r->nf++] = (struct flow_rec){ f->kind, f->id, f->from->tid, f->to->tid, f->from_ts,
					   f->to_ts };
}

static const struct timeline_ops ops = {
	.slice = on_slice, .instant = on_instant, .flow = on_flow,
};

static struct engine *new_engine(struct rec *r, const struct engine_opts *opts)
{
	struct engine_opts none = { 0 };
	struct engine *eng = engine__new(opts ? opts : &none);

	assert_non_null(eng);
	memset(r, 0, sizeof(*r));
	engine__set_timeline(eng, &ops, r);
	return eng;
}

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid, __u16 cpu,
		 __u64 value)
{
	struct gil_event ev = {
		.ts = ts, .addr = 0x1000, .tgid = PID, .tid = tid, .cpu = cpu, .kind = kind,
		.value = value,
	};

	engine__feed(eng, &ev);
}

static void assert_slice(const struct slice_rec *s, __u32 tid, enum timeline_slice_kind kind,
			 __u64 start, __u64 end, unsigned int flags)
{
	assert_int_equal(s->tid, tid);
	assert_int_equal(s->kind, kind);
	assert_int_equal(s->start, start);
	assert_int_equal(s->end, end);
	assert_int_equal(s->flags, flags);
}

/* Two threads trade the GIL: every boundary the engine sees is a slice
 * boundary, the forced release is also an instant, the trade a flow. */
static void test_handoff(void **state)
{
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);

	(void)state;
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 1500, GIL_EV_WAIT, B, 1, 0);
	feed(eng, 2000, GIL_EV_DROP_REQUEST, B, 1, 0);
	feed(eng, 3000, GIL_EV_FORCED_RELEASE, A, 0, 0);
	feed(eng, 3100, GIL_EV_ACQUIRE, B, 1, 0);
	feed(eng, 3200, GIL_EV_WAIT, A, 0, 0);
	feed(eng, 4000, GIL_EV_RELEASE, B, 1, 0);
	feed(eng, 4100, GIL_EV_ACQUIRE, A, 0, 0);

	assert_int_equal(r.ns, 5);
	assert_slice(&r.s[0], A, TIMELINE_HOLD, 1000, 3000, 0);
	assert_slice(&r.s[1], B, TIMELINE_WAIT, 1500, 3100, 0);
	assert_slice(&r.s[2], A, TIMELINE_RUN, 3000, 3200, 0);
	assert_slice(&r.s[3], B, TIMELINE_HOLD, 3100, 4000, 0);
	assert_slice(&r.s[4], A, TIMELINE_WAIT, 3200, 4100, 0);

	assert_int_equal(r.ni, 2);
	assert_int_equal(r.i[0].kind, TIMELINE_DROP_REQUEST);
	assert_int_equal(r.i[0].tid, B);
	assert_int_equal(r.i[0].ts, 2000);
	assert_int_equal(r.i[1].kind, TIMELINE_FORCED_RELEASE);
	assert_int_equal(r.i[1].tid, A);
	assert_int_equal(r.i[1].ts, 3000);

	assert_int_equal(r.nf, 2);
	assert_int_equal(r.f[0].kind, TIMELINE_HANDOFF);
	assert_int_equal(r.f[0].id, 1);
	assert_int_equal(r.f[0].from, A);
	assert_int_equal(r.f[0].from_ts, 3000);
	assert_int_equal(r.f[0].to, B);
	assert_int_equal(r.f[0].to_ts, 3100);
	assert_int_equal(r.f[1].id, 2);
	assert_int_equal(r.f[1].from, B);
	assert_int_equal(r.f[1].from_ts, 4000);
	assert_int_equal(r.f[1].to, A);

	/* What is still open ends at the last event, marked as cut. */
	engine__flush_timeline(eng);
	assert_int_equal(r.ns, 7);
	assert_slice(&r.s[5], A, TIMELINE_HOLD, 4100, 4100, TIMELINE_CUT);
	assert_slice(&r.s[6], B, TIMELINE_RUN, 4000, 4100, TIMELINE_CUT);
	engine__free(eng);
}

/* Hold slices equal the engine's acquisitions, even where the events
 * contradict each other; those slices carry TIMELINE_CUT. */
static void test_hold_slices_equal_acquisitions(void **state)
{
	const struct engine_thread *t;
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);
	size_t i, holds = 0, waits = 0;

	(void)state;
	feed(eng, 100, GIL_EV_RELEASE, A, 0, 0);  /* attached mid-hold: no hold slice */
	feed(eng, 200, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 300, GIL_EV_ACQUIRE, A, 0, 0);  /* release lost */
	feed(eng, 400, GIL_EV_WAIT, A, 0, 0);     /* release lost again */
	feed(eng, 500, GIL_EV_WAIT, A, 0, 0);     /* ACQUIRE lost */
	feed(eng, 600, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 700, GIL_EV_RELEASE, A, 0, 0);
	engine__flush_timeline(eng);

	t = engine__find_thread(eng, PID, A);
	assert_non_null(t);
	for (i = 0; i < r.ns; i++) {
		holds += r.s[i].kind == TIMELINE_HOLD;
		waits += r.s[i].kind == TIMELINE_WAIT;
	}
	assert_int_equal(holds, t->c.acquisitions);
	assert_int_equal(waits, t->c.busy);
	/* after the release, known or not, the thread runs without the GIL */
	assert_slice(&r.s[0], A, TIMELINE_RUN, 100, 200, 0);
	assert_slice(&r.s[1], A, TIMELINE_HOLD, 200, 300, TIMELINE_CUT);
	assert_slice(&r.s[2], A, TIMELINE_HOLD, 300, 400, TIMELINE_CUT);
	assert_slice(&r.s[3], A, TIMELINE_WAIT, 400, 500, TIMELINE_CUT);
	assert_slice(&r.s[4], A, TIMELINE_WAIT, 500, 600, 0);
	assert_slice(&r.s[5], A, TIMELINE_HOLD, 600, 700, 0);
	assert_slice(&r.s[6], A, TIMELINE_RUN, 700, 700, TIMELINE_CUT);
	assert_int_equal(r.ns, 7);
	engine__free(eng);
}

static void test_instants(void **state)
{
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);

	(void)state;
	feed(eng, 10, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 20, GIL_EV_WAIT, B, 3, 0);
	feed(eng, 30, GIL_EV_TIMEOUT, B, 3, 0);
	feed(eng, 40, GIL_EV_DROP_REQUEST, B, 3, 0);
	feed(eng, 50, GIL_EV_RETRY, B, 2, 0);
	feed(eng, 60, GIL_EV_RETRY, B, 2, 0);

	/* none of them changes a state: no slice ends */
	assert_int_equal(r.ns, 0);
	assert_int_equal(r.ni, 4);
	assert_int_equal(r.i[0].kind, TIMELINE_TIMEOUT);
	assert_int_equal(r.i[0].cpu, 3);
	assert_int_equal(r.i[1].kind, TIMELINE_DROP_REQUEST);
	assert_int_equal(r.i[2].kind, TIMELINE_RETRY);
	assert_int_equal(r.i[2].ts, 50);
	assert_int_equal(r.i[2].cpu, 2);
	assert_int_equal(r.i[3].kind, TIMELINE_RETRY);
	assert_int_equal(engine__find_thread(eng, PID, B)->c.retries, 2);
	engine__free(eng);
}

/* SCHED_WAKEUP: a flow from the waker (value) to the woken thread, only
 * between threads the engine knows. */
static void test_wakeup_flow(void **state)
{
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);

	(void)state;
	feed(eng, 10, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 20, GIL_EV_WAIT, B, 1, 0);
	feed(eng, 30, GIL_EV_RELEASE, A, 0, 0);
	feed(eng, 31, GIL_EV_SCHED_WAKEUP, B, 1, A);
	feed(eng, 32, GIL_EV_SCHED_WAKEUP, B, 1, 999); /* waker never seen */
	feed(eng, 33, GIL_EV_SCHED_WAKEUP, B, 1, 0);
	feed(eng, 40, GIL_EV_ACQUIRE, B, 1, 0);

	assert_int_equal(r.nf, 2);
	assert_int_equal(r.f[0].kind, TIMELINE_WAKEUP);
	assert_int_equal(r.f[0].from, A);
	assert_int_equal(r.f[0].to, B);
	assert_int_equal(r.f[0].from_ts, 31);
	assert_int_equal(r.f[0].to_ts, 31);
	assert_int_equal(r.f[1].kind, TIMELINE_HANDOFF);
	assert_int_equal(r.f[1].from_ts, 30);
	assert_int_equal(r.f[1].to_ts, 40);
	engine__free(eng);
}

/* A holder whose release was lost hands nothing over; the same thread
 * taking the GIL again is no handoff. */
static void test_no_false_handoff(void **state)
{
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);

	(void)state;
	feed(eng, 10, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 20, GIL_EV_ACQUIRE, B, 1, 0); /* A's release lost */
	feed(eng, 30, GIL_EV_RELEASE, B, 1, 0);
	feed(eng, 40, GIL_EV_ACQUIRE, B, 1, 0);
	assert_int_equal(r.nf, 0);
	engine__free(eng);
}

/* Out of order by a little: a slice never ends before it starts. */
static void test_out_of_order(void **state)
{
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);

	(void)state;
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 990, GIL_EV_RELEASE, A, 1, 0);
	assert_int_equal(r.ns, 1);
	assert_slice(&r.s[0], A, TIMELINE_HOLD, 1000, 1000, 0);
	engine__free(eng);
}

/* The engine's figures are the same with and without a timeline. */
static void test_engine_unchanged(void **state)
{
	struct engine_totals with, without;
	struct engine *plain = engine__new(NULL);
	struct rec r;
	struct engine *eng = new_engine(&r, NULL);
	struct engine *e[2] = { plain, eng };
	int i;

	(void)state;
	assert_non_null(plain);
	for (i = 0; i < 2; i++) {
		feed(e[i], 1000, GIL_EV_ACQUIRE, A, 0, 0);
		feed(e[i], 1500, GIL_EV_WAIT, B, 1, 0);
		feed(e[i], 1600, GIL_EV_RETRY, B, 1, 0);
		feed(e[i], 3000, GIL_EV_FORCED_RELEASE, A, 0, 0);
		feed(e[i], 3050, GIL_EV_SCHED_WAKEUP, B, 1, A);
		feed(e[i], 3100, GIL_EV_ACQUIRE, B, 1, 0);
		feed(e[i], 3200, GIL_EV_WAIT, A, 0, 0);
		feed(e[i], 4000, GIL_EV_RELEASE, B, 1, 0);
		feed(e[i], 4100, GIL_EV_ACQUIRE, A, 0, 0);
	}
	engine__totals(plain, &without);
	engine__totals(eng, &with);
	assert_memory_equal(&with.c, &without.c, sizeof(with.c));
	assert_int_equal(with.switches, without.switches);
	assert_int_equal(with.wait_p99_ns, without.wait_p99_ns);
	assert_int_equal(with.wakeups, without.wakeups);
	engine__free(plain);
	engine__free(eng);
}

/* The engine's window and thread filters apply to the timeline too. */
static void test_filters(void **state)
{
	struct engine_opts opts = { .from_ts = 100, .to_ts = 500, .tid = A };
	struct rec r;
	struct engine *eng = new_engine(&r, &opts);

	(void)state;
	feed(eng, 50, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 150, GIL_EV_RELEASE, A, 0, 0); /* its ACQUIRE is outside */
	feed(eng, 200, GIL_EV_ACQUIRE, B, 1, 0);
	feed(eng, 250, GIL_EV_RETRY, B, 1, 0);
	feed(eng, 300, GIL_EV_ACQUIRE, A, 0, 0);
	feed(eng, 600, GIL_EV_RELEASE, A, 0, 0);
	engine__flush_timeline(eng);

	assert_int_equal(r.ni, 0);
	assert_int_equal(r.ns, 2);
	assert_slice(&r.s[0], A, TIMELINE_RUN, 150, 300, 0);
	assert_slice(&r.s[1], A, TIMELINE_HOLD, 300, 300, TIMELINE_CUT);
	engine__free(eng);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(timeline__slice_name(TIMELINE_HOLD), "holding GIL");
	assert_string_equal(timeline__slice_name(TIMELINE_WAIT), "waiting for GIL");
	assert_string_equal(timeline__instant_name(TIMELINE_RETRY), "retry");
	assert_string_equal(timeline__instant_name(TIMELINE_FORCED_RELEASE), "forced release");
	assert_string_equal(timeline__flow_name(TIMELINE_WAKEUP), "wakeup");
	assert_string_equal(timeline__flow_name(TIMELINE_HANDOFF), "handoff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handoff),
		cmocka_unit_test(test_hold_slices_equal_acquisitions),
		cmocka_unit_test(test_instants),
		cmocka_unit_test(test_wakeup_flow),
		cmocka_unit_test(test_no_false_handoff),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_engine_unchanged),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
