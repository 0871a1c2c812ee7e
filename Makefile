# Builds and installs dbsecrets, its man page and its shell completions.
#   make install PREFIX=/usr/local           (release build, then install)
#   make install PREFIX=... BINARY=path      (install an already built binary)
#   make uninstall PREFIX=...                (removes exactly what install put there)
#   make generated                           (rewrites man/ and completions/ from the code)

PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
RELEASE_BINARY := .build/release/dbsecrets
BINARY ?= $(RELEASE_BINARY)
# The ElastiCache plugin runs as its own executable. The release binary links the Swift and C++
# runtimes statically (scripts/build-shipped: a third of the start-up time, 8 MiB instead of 16);
# the plugin is a plain release build (the Swift runtime linked in by Package.swift; FoundationXML
# needs the system's libxml2 and ICU), in its own folder.
PLUGIN_BUILD := .build-plugins
RELEASE_PLUGIN := $(PLUGIN_BUILD)/release/dbsecrets-elasticache-plugin
PLUGINS ?= $(if $(filter $(RELEASE_BINARY),$(BINARY)),$(RELEASE_PLUGIN),$(dir $(BINARY))dbsecrets-elasticache-plugin)

root := $(DESTDIR)$(PREFIX)
installed_binary := $(root)/bin/dbsecrets
installed_man := $(root)/share/man/man1/dbsecrets.1
installed_bash := $(root)/share/bash-completion/completions/dbsecrets
installed_zsh := $(root)/share/zsh/site-functions/_dbsecrets
installed_fish := $(root)/share/fish/vendor_completions.d/dbsecrets.fish
installed_plugin := $(root)/libexec/dbsecrets/dbsecrets-elasticache-plugin

.PHONY: all release install uninstall generated

all: release

release:
	SWIFT="$(SWIFT)" scripts/build-shipped --product dbsecrets
	$(SWIFT) build -c release --product dbsecrets-elasticache-plugin --scratch-path $(PLUGIN_BUILD)

# The release build runs only when installing the release binary; BINARY=... skips it.
install: $(if $(filter $(RELEASE_BINARY),$(BINARY)),release)
	install -d "$(root)/bin" "$(root)/share/man/man1" "$(dir $(installed_bash))" "$(dir $(installed_zsh))" "$(dir $(installed_fish))"
	install -m 755 "$(BINARY)" "$(installed_binary)"
	install -d "$(dir $(installed_plugin))"
	install -m 755 "$(PLUGINS)" "$(installed_plugin)"
	install -m 644 man/dbsecrets.1 "$(installed_man)"
	install -m 644 completions/dbsecrets.bash "$(installed_bash)"
	install -m 644 completions/_dbsecrets "$(installed_zsh)"
	install -m 644 completions/dbsecrets.fish "$(installed_fish)"

uninstall:
	rm -f "$(installed_binary)" "$(installed_man)" "$(installed_bash)" "$(installed_zsh)" "$(installed_fish)" "$(installed_plugin)"
	rmdir "$(dir $(installed_plugin))" 2>/dev/null || true

generated:
	$(BINARY) __manpage > man/dbsecrets.1
	$(BINARY) completion bash > completions/dbsecrets.bash
	$(BINARY) completion zsh > completions/_dbsecrets
	$(BINARY) completion fish > completions/dbsecrets.fish
