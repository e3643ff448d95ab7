# tools/bench: benchmarks, built by `make bench` (included from the top-level
# Makefile, so $(BUILD), $(CLANG), $(BPFTOOL) and the flags are the same).
BENCH := $(BUILD)/bench

$(BENCH)/probecost.bpf.o: tools/bench/probecost.bpf.c bpf/giltrace.h $(VMLINUX_H)
	$(Q)mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(BUILD) -Ibpf $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(BENCH)/probecost.skel.h: $(BENCH)/probecost.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BENCH)/probecost: tools/bench/probecost.c tools/bench/probe_targets.S $(BENCH)/probecost.skel.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -I$(BENCH) tools/bench/probecost.c \
		tools/bench/probe_targets.S $(shell pkg-config --cflags --libs libbpf libelf zlib) \
		-pthread -o $@

bench: all $(BENCH)/probecost

$(BENCH)/evgen: tools/bench/evgen.c tools/toyvm/gil_hooks.S tools/toyvm/gil_hooks.h
	$(Q)mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -Itools/toyvm tools/bench/evgen.c \
		tools/toyvm/gil_hooks.S -pthread -o $@

bench: $(BENCH)/evgen
