/* Human-readable units for durations and counts. */
#include <stdio.h>

#include "views/format.h"

/* Three significant digits: enough to compare, short enough for a column. */
static void three_digits(char *buf, size_t len, double v, const char *sep, const char *unit)
{
	if (v >= 100)
		snprintf(buf, len, "%.0f%s%s", v, sep, unit);
	else if (v >= 10)
		snprintf(buf, len, "%.1f%s%s", v, sep, unit);
	else
		snprintf(buf, len, "%.2f%s%s", v, sep, unit);
}

char *format__duration(char *buf, size_t len, double ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 999.5)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 999.5e3)
		three_digits(buf, len, ns / 1e3, " ", "us");
	else if (ns < 999.5e6)
		three_digits(buf, len, ns / 1e6, " ", "ms");
	else if (ns < 3600e9)
		three_digits(buf, len, ns / 1e9, " ", "s");
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(ns / 3600e9),
			 (long long)(ns / 60e9) % 60);
	return buf;
}

char *format__count(char *buf, size_t len, double n)
{
	if (n < 999.5)
		snprintf(buf, len, "%.0f", n);
	else if (n < 999.5e3)
		three_digits(buf, len, n / 1e3, "", "k");
	else if (n < 999.5e6)
		three_digits(buf, len, n / 1e6, "", "M");
	else
		three_digits(buf, len, n / 1e9, "", "G");
	return buf;
}

const char *format__state(enum thread_state state)
{
	switch (state) {
	case THREAD_HOLDING:
		return "holding";
	case THREAD_WAITING:
		return "waiting";
	case THREAD_RUNNING:
		return "running";
	case THREAD_UNKNOWN:
		break;
	}
	return "unknown";
}
