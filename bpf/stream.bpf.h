/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The stream every program writes to: the ring buffer, its per-CPU drop
 * counter, the traced_tgids map that every handler looks up first, the
 * helpers that reserve, fill and submit one struct gil_event, and reads of
 * the target's memory.
 */
#ifndef GILTRACE_STREAM_BPF_H
#define GILTRACE_STREAM_BPF_H

/* Ring-buffer wake-ups are batched: the consumer polls every few ms anyway,
 * and waking it per event would cost more than the event. */
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, GILTRACE_RINGBUF_BYTES);
} events SEC(".maps");

/* Records lost to a full ring buffer, per CPU; user space turns increases
 * into DROPS events so that drops travel in the stream. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct gil_target);
} traced_tgids SEC(".maps");

static __always_inline struct gil_event *reserve(void)
{
	struct gil_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u32 zero = 0;
		__u64 *cnt = bpf_map_lookup_elem(&drops, &zero);

		if (cnt)
			(*cnt)++;
	}
	return e;
}

/* Wake-ups happen as the pending data crosses wakeup_bytes, in a window of
 * a few records (CPUs submit concurrently), not at every record above it:
 * a consumer that falls behind would otherwise make each of the target's
 * events pay for a wake-up (4x slower in a storm). The consumer also polls
 * every 10 ms, so a crossing missed costs only latency. */
#define WAKEUP_WINDOW 1024

static __always_inline void submit(struct gil_event *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = avail >= wakeup_bytes && avail < wakeup_bytes + WAKEUP_WINDOW
			      ? BPF_RB_FORCE_WAKEUP
			      : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, flags);
}

static __always_inline void emit(__u32 kind, __u32 tgid, __u32 tid, __u32 cpu,
				 __u64 ts, __u64 addr, __u64 value, __s32 ret)
{
	struct gil_event *e = reserve();

	if (!e)
		return;
	e->ts = ts;
	e->addr = addr;
	e->value = value;
	e->tgid = tgid;
	e->tid = tid;
	e->ret = ret;
	e->cpu = cpu;
	e->kind = kind;
	submit(e);
}

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

static __always_inline __u32 read_u32(__u64 addr)
{
	__u32 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

#endif /* GILTRACE_STREAM_BPF_H */
