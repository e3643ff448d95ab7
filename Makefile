# giltrace: build, test and install. Everything generated goes to $(BUILD).
BUILD ?= build
PREFIX ?= /usr/local
# systemd units: /usr/local/lib/systemd/system is on systemd's search path;
# Debian 12's packages put them in /lib/systemd/system.
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PYTEST ?= /usr/bin/python3 -m pytest
ARCH := x86

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test test-unit test-e2e test-long test-asan lint install install-tracer \
	install-completion deb deps demo

PKG_LIBS := libbpf libelf zlib json-c ncursesw libmicrohttpd cmocka
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
INCLUDES := -I$(BUILD) -Ibpf -Iuser
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $(INCLUDES) \
	$(shell pkg-config --cflags libbpf libelf json-c ncursesw libmicrohttpd libcap) -MMD -MP
LDLIBS_GILTRACE = $(shell pkg-config --libs libbpf libelf zlib json-c ncursesw libmicrohttpd libcap) -lm

# The kernel's own BTF gives the most exact vmlinux.h; the committed copy is the
# fallback for machines without /sys/kernel/btf/vmlinux at build time.
VMLINUX_H := $(BUILD)/vmlinux.h
# Clang's BPF target has no system include path: borrow the host compiler's,
# as libbpf-bootstrap does, so <linux/types.h> style headers resolve.
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# Everything in user/ but main.c goes into a library that the unit tests link too.
USER_SRCS := $(filter-out user/main.c,$(shell find user -name '*.c' | sort))
USER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(USER_SRCS))
MAIN_OBJ := $(BUILD)/obj/user/main.o
LIBGILTRACE := $(BUILD)/libgiltrace.a

TOYVM_SRCS := $(wildcard tools/toyvm/*.c) $(wildcard tools/toyvm/*.S)
TOYVM_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(TOYVM_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

all: $(BUILD)/giltrace $(BUILD)/toyvm

$(VMLINUX_H):
	$(Q)mkdir -p $(@D)
	$(call msg,VMLINUX,$@)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ] && command -v $(BPFTOOL) >/dev/null; then \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@; \
	else cp vmlinux/vmlinux.h $@; fi

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H)
	$(Q)mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(BUILD) -Ibpf $(CLANG_BPF_SYS_INCLUDES) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# User objects are ordered after the skeletons: only user/trace/ includes one,
# but -MMD learns that only after the first build.
$(BUILD)/obj/user/%.o: user/%.c | $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBGILTRACE): $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/giltrace: $(MAIN_OBJ) $(LIBGILTRACE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS_GILTRACE) -o $@

# The toy VM shares nothing with giltrace but the hook names in gil_hooks.h.
TOYVM_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -pthread -MMD -MP
$(BUILD)/obj/tools/toyvm/%.c.o: tools/toyvm/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TOYVM_CFLAGS) -c $< -o $@

$(BUILD)/obj/tools/toyvm/%.S.o: tools/toyvm/%.S
	$(Q)mkdir -p $(@D)
	$(call msg,AS,$@)
	$(Q)$(CC) $(TOYVM_CFLAGS) -c $< -o $@

$(BUILD)/toyvm: $(TOYVM_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -pthread $^ -lm -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIBGILTRACE)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBGILTRACE) $(LDLIBS_GILTRACE) \
		$(shell pkg-config --libs cmocka) -o $@

test-unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# End-to-end tests need root for BPF; without it they skip and say why.
# They build what they trace once, outside the clone: Debian chroots
# (tools/debian-chroot, tools/sid-chroot) and, asked for here, the
# free-threaded CPython and its GIL control (tools/ft-cpython, about 6
# minutes on 2 cores the first time).
FT_TEST_ENV := GILTRACE_FT_BUILD=1
test-e2e: all
	$(Q)$(FT_TEST_ENV) $(PYTEST) -q -rs tests/toyvm tests/e2e

# The fuzz run is short (FUZZ_TEST_SECONDS) and comes before the pytest
# suites, so that CI's last line is a test runner's summary.
FUZZ_TEST_SECONDS ?= 10
test: all test-unit
	$(Q)$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)
	$(Q)$(MAKE) --no-print-directory lint test-e2e test-asan

test-long: all
	$(Q)GILTRACE_LONG=1 $(PYTEST) -q -rs tests/e2e -m long

# The unit and end-to-end suites again, on a build with AddressSanitizer and
# UBSan in build-asan/ (any report fails the run: halt_on_error, and UBSan
# does not recover). The tests find it through GILTRACE_BUILD.
ASAN_BUILD ?= build-asan
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ASAN_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The toy VM is the target and the ground truth, not the product: it gets
# UBSan only (LeakSanitizer would fail its tests of error exits, which leave
# their memory to the kernel, as a CLI may).
test-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_FLAGS)" \
		$(ASAN_BUILD)/giltrace $(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_BINS))
	$(Q)rm -rf $(ASAN_BUILD)/obj/tools/toyvm $(ASAN_BUILD)/toyvm
	$(Q)$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
		CFLAGS="-O2 -g -fsanitize=undefined -fno-sanitize-recover=all" $(ASAN_BUILD)/toyvm
	$(Q)set -e; for t in $(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_BINS)); do \
		echo "== $$t"; $(ASAN_ENV) $$t; done
	$(Q)$(ASAN_ENV) $(FT_TEST_ENV) GILTRACE_BUILD=$(abspath $(ASAN_BUILD)) $(PYTEST) -q -rs \
		tests/toyvm tests/e2e

# Static analysis of user/ and tools/ (docs/lint.md says which checks and why).
# cppcheck does not read the generated headers: a skeleton's byte array costs
# it minutes and says nothing about our code.
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_JOBS ?= $(shell nproc)
LINT_SRCS = $(shell find user tools -name '*.c' ! -name '*.bpf.c' | sort)
lint: $(SKELS) $(BUILD)/bench/probecost.skel.h
	$(call msg,CPPCHECK,user tools)
	$(Q)$(CPPCHECK) --quiet --error-exitcode=1 --std=c11 --max-configs=1 --inline-suppr \
		--enable=warning,portability,performance \
		--suppress=missingIncludeSystem --suppress=missingInclude \
		-D__x86_64__ -D_GNU_SOURCE '-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = {0}' \
		-Ibpf -Iuser $(LINT_SRCS)
	$(Q)$(MAKE) --no-print-directory -j$(LINT_JOBS) lint-tidy

# One clang-tidy per file, in parallel; a stamp records a clean file.
TIDY_FLAGS = -std=gnu11 -D_GNU_SOURCE -isystem $(BUILD) -isystem $(BUILD)/bench -Ibpf -Iuser \
	-Itools/toyvm $(shell pkg-config --cflags libbpf libelf json-c ncursesw libmicrohttpd libcap)
TIDY_STAMPS = $(patsubst %.c,$(BUILD)/lint/%.tidy,$(LINT_SRCS))
.PHONY: lint-tidy
lint-tidy: $(TIDY_STAMPS)
$(BUILD)/lint/%.tidy: %.c .clang-tidy
	$(Q)mkdir -p $(@D)
	$(call msg,TIDY,$<)
	$(Q)$(CLANG_TIDY) --quiet $< -- $(TIDY_FLAGS) 2>/dev/null && touch $@

# install-tracer is what the Debian package ships (make deb); install adds
# the toy VM, a test fixture.
install-tracer: $(BUILD)/giltrace install-completion
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/giltrace/monitoring $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/giltrace $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/giltrace.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 tools/monitoring/giltrace.rules.yml tools/monitoring/giltrace.rules.test.yml \
		tools/monitoring/grafana-dashboard.json $(DESTDIR)$(PREFIX)/share/giltrace/monitoring/
	sed 's|/usr/local/bin/giltrace|$(PREFIX)/bin/giltrace|' tools/systemd/giltrace.service \
		> $(DESTDIR)$(UNITDIR)/giltrace.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/giltrace.service

install: all install-tracer
	install -m 0755 $(BUILD)/toyvm $(DESTDIR)$(PREFIX)/bin/

# The Debian package (docs/packaging.md), built with Debian's tooling from
# the working tree (git's files, not what it ignores) copied into $(BUILD)/deb, then checked by lintian.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
deb:
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/giltrace-$(DEB_VERSION)
	$(Q)git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(BUILD)/deb/giltrace-$(DEB_VERSION)
	$(call msg,DEB,$(BUILD)/deb/giltrace_$(DEB_VERSION)_amd64.deb)
	$(Q)cd $(BUILD)/deb/giltrace-$(DEB_VERSION) && \
		dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || { tail -n 30 ../build.log; exit 1; }
	$(call msg,LINTIAN,$(BUILD)/deb/giltrace_$(DEB_VERSION)_amd64.changes)
	$(Q)lintian --fail-on error \
		$(BUILD)/deb/giltrace_$(DEB_VERSION)_amd64.changes

# bash-completion loads completions/NAME when NAME is first completed.
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
install-completion:
	install -d $(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 0644 tools/completion/giltrace.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/giltrace

# Debian 12 packages the build, the tests and the demo need.
DEB_PACKAGES := make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	libjson-c-dev libncurses-dev libcmocka-dev pkg-config binutils \
	python3 python3-pytest python3-yaml python3-jsonschema python3-waitress tmux bpftrace gdb \
	libmicrohttpd-dev libcap-dev prometheus gcc cppcheck clang-tidy libclang-rt-14-dev \
	dpkg-dev debhelper lintian debootstrap xz-utils
deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PACKAGES)

demo: all
	./tools/demo

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Fuzzing (tests/fuzz/README.md): clang's libFuzzer with ASan and UBSan,
# one target per reader of data giltrace does not control, each built from
# the sources it reads with alone. fuzz-run runs each for FUZZ_SECONDS and
# keeps what it finds in $(BUILD)/fuzz/NAME, seeded from tests/fuzz/corpus/NAME.
.PHONY: fuzz fuzz-run
FUZZ_SECONDS ?= 30
FUZZ_NAMES := capture elf proc pyobj pydebug
FUZZ_SRCS_capture := $(wildcard user/capture/*.c) user/util/safe_text.c
FUZZ_LIBS_capture := -lz
FUZZ_SRCS_elf := user/target/elf_file.c
FUZZ_LIBS_elf := -lelf
FUZZ_SRCS_proc := user/target/proc.c user/util/safe_text.c
FUZZ_SRCS_pyobj := user/target/pyobj.c user/target/proc.c user/target/runtimes.c \
	user/util/safe_text.c
FUZZ_SRCS_pydebug := user/target/py_debug.c user/target/runtimes.c
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_NAMES))
.SECONDEXPANSION:
$(FUZZ_BINS): $(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(wildcard user/*/*.h) \
		bpf/giltrace.h bpf/blame.h user/trace_meta.h
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(WARN) -Wno-missing-field-initializers \
		-std=gnu11 -D_GNU_SOURCE \
		$(INCLUDES) $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*) -o $@

# make fuzz: each target for 5 minutes (make test runs each for 10 s).
fuzz: FUZZ_SECONDS = 300
fuzz: fuzz-run

fuzz-run: $(FUZZ_BINS)
	$(Q)set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p $(BUILD)/fuzz/$$n; cp -n tests/fuzz/corpus/$$n/* $(BUILD)/fuzz/$$n/; \
		log=$(BUILD)/fuzz/$$n.log; \
		if ! $(BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-artifact_prefix=$(BUILD)/fuzz/$$n- $(BUILD)/fuzz/$$n >$$log 2>&1; then \
			tail -n 40 $$log; echo "fuzz_$$n failed: $$log"; exit 1; fi; \
		echo "fuzz_$$n: $$(grep '^Done' $$log)"; \
	done

# Benchmarks (docs/performance.md): `make bench`, then sudo tools/bench/run.
.PHONY: bench
include tools/bench/bench.mk
