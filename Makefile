# Cubicle: the two commands a new user needs.
#   make run   installs what is missing, builds everything (cached), boots a guest
#   make test  builds everything and runs the whole suite
#
# Big artifacts (guest kernel, root images) are cached outside the tree, in
# $(CUBICLE_CACHE) (default ~/.cache/cubicle), keyed by a hash of their inputs.

MAKEFLAGS += --no-print-directory

BUILD ?= build
BUILD_ASAN ?= build-asan
JOBS ?= $(shell nproc)
TEMPLATES := minimal desktop
TEMPLATE ?= desktop
GUEST := $(BUILD)/guest

.PHONY: all deps build build-asan guest kernel image web run run-vmm test test-unit bench clean

all: build guest web

deps:
	@if [ "$$(id -u)" -eq 0 ]; then scripts/install-deps.sh; \
	 else sudo scripts/install-deps.sh; fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUBICLE_GUEST_DIR=$(CURDIR)/$(GUEST) >/dev/null

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DCUBICLE_SANITIZE=ON -DCUBICLE_GUEST_DIR=$(CURDIR)/$(GUEST) >/dev/null

build-asan: $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j$(JOBS)

# The guest kernel and the templates' root images; each script prints the path
# of its cached result, which the tests and `make run` read.
kernel: deps
	@mkdir -p $(GUEST)
	guest-desktop/kernel/build.sh > $(GUEST)/kernel.path.tmp
	@mv $(GUEST)/kernel.path.tmp $(GUEST)/kernel.path

image: deps build
	@mkdir -p $(GUEST)
	@for t in $(TEMPLATES); do \
		guest-desktop/build-image.sh $$t $(BUILD)/guest-desktop/cubicle-agent \
			$(BUILD)/guest-desktop/cubicle-keys > $(GUEST)/$$t.path.tmp && \
		mv $(GUEST)/$$t.path.tmp $(GUEST)/$$t.path || exit 1; \
	done

guest: kernel image

# The web console as cubicled serves it (--web-dir $(BUILD)/web): our files
# (web/console) and noVNC from npm, installed in the cache with
# playwright-core for the browser tests; modules.path names them.
web: deps
	@mkdir -p $(BUILD)/web
	scripts/web-deps.sh > $(BUILD)/web/modules.path.tmp
	@mv $(BUILD)/web/modules.path.tmp $(BUILD)/web/modules.path
	@ln -sfn $(CURDIR)/web/console $(BUILD)/web/console
	@ln -sfn "$$(cat $(BUILD)/web/modules.path)/@novnc/novnc" $(BUILD)/web/novnc

# Starts cubicled, the sandbox service, on http://127.0.0.1:$(PORT) with its
# sandboxes' files in $(DATA_DIR), and prints its URL and API key. Ctrl-C
# stops it and ends every sandbox.
PORT ?= 8080
DATA_DIR ?= /var/lib/cubicle
run: deps build guest web
	@echo "--- cubicled: the web console is http://127.0.0.1:$(PORT)/ (sign in with the key below)"
	@echo "--- or try  curl -H \"Authorization: Bearer KEY\" -X POST http://127.0.0.1:$(PORT)/sandboxes -d '{}'"
	@echo "--- or the command line: $(BUILD)/cli/cubicle --help (docs/cli.md)"
	@echo "--- API: docs/api.md (api/openapi.yaml); Ctrl-C stops cubicled and every sandbox"
	@$(BUILD)/api/cubicled --data-dir $(DATA_DIR) --listen 127.0.0.1:$(PORT) \
		--guest-dir $(GUEST) --web-dir $(BUILD)/web --print-key

# Boots one desktop sandbox without the service (TEMPLATE, default desktop;
# its own overlay on the shared base image) with VNC on
# 127.0.0.1:$(VNC_PORT), shows its console, runs a command through the
# agent, saves a screenshot, then opens a shell in it as `user`; leaving the
# shell powers the sandbox off.
RUN_DIR := $(BUILD)/run
VNC_PORT ?= 5900
CTL = $(BUILD)/guest-desktop/cubicle-ctl --vsock $(RUN_DIR)/vsock
run-vmm: deps build guest
	@mkdir -p $(RUN_DIR) && rm -f $(RUN_DIR)/overlay.qcow2 $(RUN_DIR)/console.log
	@$(BUILD)/vmm/cubicle-vmm --kernel "$$(cat $(GUEST)/kernel.path)" \
		--disk "$$(cat $(GUEST)/$(TEMPLATE).path)" --overlay $(RUN_DIR)/overlay.qcow2 \
		--vsock $(RUN_DIR)/vsock --control $(RUN_DIR)/control \
		--vnc 127.0.0.1:$(VNC_PORT) --vnc-password-file $(RUN_DIR)/vnc-password \
		--serial $(RUN_DIR)/console.log --vcpus 2 --memory 2048 \
		--append cubicle.noshell </dev/null & vmm=$$!; \
	if $(CTL) wait 120; then \
		for i in $$(seq 600); do grep -qE 'desktop ready|services (ready|failed)' \
			$(RUN_DIR)/console.log && break; sleep 0.2; done; \
		echo "--- guest console ($(RUN_DIR)/console.log)"; cat $(RUN_DIR)/console.log; \
		echo "--- through the agent: uname -a; id; df -h /"; \
		$(CTL) exec 'uname -a; id; df -h /'; \
		scripts/screenshot.sh $(RUN_DIR)/control $(RUN_DIR)/screen.png && \
			echo "--- screenshot: $(RUN_DIR)/screen.png"; \
		echo "--- VNC: 127.0.0.1:$(VNC_PORT), password in $(RUN_DIR)/vnc-password"; \
		echo "--- a shell in the sandbox as user; exit or Ctrl-D powers it off"; \
		$(CTL) shell; $(CTL) poweroff; \
	fi; wait $$vmm

# The whole suite twice: under ASan+UBSan (the device host serving real
# guests included), then on the normal build. Both boot real guests.
test: deps build build-asan guest web
	cd $(BUILD_ASAN) && ctest --output-on-failure
	cd $(BUILD) && ctest --output-on-failure

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

# Figures for bench/RESULTS.md: boot time against plain QEMU, device host RSS,
# agent round trips and file throughput, screenshot latency, VNC frame rate
# and boot to desktop.
RUNS ?= 10
bench: deps build guest
	$(BUILD)/bench/bench_boot --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST) --runs $(RUNS) --vcpus 1
	$(BUILD)/bench/bench_boot --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST) --runs $(RUNS) --vcpus 2
	$(BUILD)/bench/bench_agent --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST)
	$(BUILD)/bench/bench_screenshot --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST)
	$(BUILD)/bench/bench_input --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST)
	$(BUILD)/bench/bench_typing --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST)
	$(BUILD)/bench/bench_api --cubicled $(BUILD)/api/cubicled --guest-dir $(GUEST)
	$(BUILD)/bench/bench_step --cubicled $(BUILD)/api/cubicled --guest-dir $(GUEST)
	$(BUILD)/bench/bench_network --vmm $(BUILD)/vmm/cubicle-vmm --guest-dir $(GUEST) \
		--netlab tests/net/netlab.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
