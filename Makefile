# daa — top-level build.  Each part keeps its own rules in <dir>/module.mk;
# this file holds the flags, the shared targets and the install layout.
#
#   make deps     install the Debian packages the project needs (idempotent)
#   make          build daad, daa, daa-sandbox and the libraries into build/
#   make test     build, then run every test suite (tests/run_all.sh), TEST_JOBS
#                 tests at once (default: the number of cores plus one)
#   make check    the suites again under ASan+UBSan (with the slow tests:
#                 DAA_TEST_SLOW=1), daemon tests under valgrind
#   make install  PREFIX=~/.local by default
#   make demo     build, start a private daemon, run a few offline asks
#   make fuzz     libFuzzer on eight parsers, FUZZ_SECS each (tests/fuzz/module.mk)
#   make lint / make layering

PREFIX ?= $(HOME)/.local

# One job per core unless -j is given: `make test` on a fresh clone compiled
# one file at a time (38 s here; 21 s with -j2).  Only the top-level make
# decides; sub-makes ($(MAKE) in `check`) share its jobserver.  The test and
# demo scripts run with make's flags removed (NO_MAKEFLAGS): a make they
# start (the fuzz targets' build) must not take fds it was not given for a
# jobserver.
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif
NO_MAKEFLAGS := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL
SAN ?= 0
BUILD ?= build
ifeq ($(SAN),1)
BUILD := build-san
endif

CC ?= cc
PKGS := msgpack jansson libcurl libseccomp libcap nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -fno-strict-aliasing $(WARN) -MMD -MP -I. $(PKG_CFLAGS)
LDFLAGS ?=
ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_MSGPACK := $(shell pkg-config --libs msgpack 2>/dev/null || echo -lmsgpackc)
LIB_JANSSON := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
LIB_CURL := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
LIB_SECCOMP := $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
LIB_CAP := $(shell pkg-config --libs libcap 2>/dev/null || echo -lcap)
# SHA-256 (daemon/core/sha256.h): nettle, which libcurl's gnutls already loads in daad.
LIB_NETTLE := $(shell pkg-config --libs nettle 2>/dev/null || echo -lnettle)

BIN := $(BUILD)/bin
LIBDIR := $(BUILD)/lib
OBJ := $(BUILD)/obj

ALL_TARGETS :=
TEST_BINS :=

.PHONY: all deps test check install uninstall demo fuzz lint layering clean
all: build-all

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
# Keep objects that pattern rules make on the way (tests' own .o): make
# would delete them as intermediates, and `make lint` reads every object.
.SECONDARY:

include $(wildcard */module.mk tests/*/module.mk bench/*/module.mk)

# The analyst and the kernel runtime byte-compiled beside their sources
# (__pycache__, not in git): the daemon runs the analyst with
# PYTHONDONTWRITEBYTECODE and a kernel cannot write into its runtime, so
# without these every analyst call (0.16 -> 0.07 s) and every kernel start
# compiled them again.  With the kernels' interpreter (KERNEL_PYTHON, the
# config's default); skipped when it is not installed yet (make deps).
KERNEL_PYTHON ?= /usr/bin/python3
PY_TREES := daemon/analyst sandbox/python
PY_SRCS := $(shell find $(PY_TREES) -name '*.py' 2>/dev/null)
$(BUILD)/pyc.stamp: $(PY_SRCS)
	@mkdir -p $(dir $@)
	@if [ -x $(KERNEL_PYTHON) ]; then \
		$(KERNEL_PYTHON) -m compileall -q $(PY_TREES) && touch $@; \
	else echo "note: $(KERNEL_PYTHON) not found: Python sources not byte-compiled"; fi
ALL_TARGETS += $(BUILD)/pyc.stamp

build-all: $(ALL_TARGETS) $(TEST_BINS)
.PHONY: build-all

deps:
	./tools/deps.sh

test: build-all
	$(NO_MAKEFLAGS) BUILD=$(BUILD) $(if $(TEST_JOBS),DAA_TEST_JOBS=$(TEST_JOBS)) ./tests/run_all.sh

check:
	$(MAKE) SAN=1 build-all
	$(NO_MAKEFLAGS) BUILD=build-san DAA_CHECK=1 DAA_TEST_SLOW=1 ./tests/run_all.sh
	$(MAKE) build-all
	$(NO_MAKEFLAGS) BUILD=$(BUILD) DAA_VALGRIND=1 ./tests/run_all.sh integration

demo: build-all
	$(NO_MAKEFLAGS) BUILD=$(BUILD) ./tools/demo.sh

layering:
	./tools/check_layering.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 -I. \
		--include=/usr/include/jansson.h protocol daemon client sandbox
	BUILD=$(BUILD) ./tools/check_symbols.sh

install: build-all
	BUILD=$(BUILD) PREFIX=$(PREFIX) ./tools/install.sh

uninstall:
	PREFIX=$(PREFIX) ./tools/install.sh --uninstall

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
