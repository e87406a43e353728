# HAPA gateway. `make run` and `make test` are all a fresh machine needs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/hapa
PKGS     := ./...

.PHONY: all build run test test-short lint fmt generate check-generated docker bench clean chart-check manifests schemas openapi-lint \
	clients clients-deps clients-test check-clients vsix bench-editors

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/hapa

# Development server on :8000: SQLite in ./data, in-process cache and limiter, the
# built-in vLLM simulator, the original extension's e-mail login and demo key.
run: build
	SELF_SIGNUP=$${SELF_SIGNUP:-true} DEMO_API_KEY_ENABLED=$${DEMO_API_KEY_ENABLED:-true} AUTO_MIGRATE=$${AUTO_MIGRATE:-true} \
	STRUCTURED_LOGGING=$${STRUCTURED_LOGGING:-false} ./$(BIN) serve

test: lint check-generated chart-check openapi-lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -count=1 -short $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

generate:
	$(GO) tool templ generate

# Fails when the committed templ output differs from what the pinned templ generates.
check-generated:
	@if git ls-files '*.templ' | grep -q .; then \
		$(GO) tool templ generate >/dev/null && \
		git diff --exit-code -- '*_templ.go' || { echo "generated templ code is stale: run make generate"; exit 1; }; \
	fi

# The OpenAPI document (/openapi.json, printed by hapa openapi) linted by Redocly CLI with
# its recommended rules (tools/openapi: package.json and its lockfile, installed by npm ci).
# Fails on any error; the warnings left are the public health routes, which have no 4xx
# answer, and the WebSocket upgrade, whose success is 101.
OPENAPI_DIR := tools/openapi
openapi-lint: build
	./$(BIN) openapi > bin/openapi.json
	@test -x $(OPENAPI_DIR)/node_modules/.bin/redocly || (cd $(OPENAPI_DIR) && $(NPM) ci --no-audit --no-fund --loglevel=error)
	cd $(OPENAPI_DIR) && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true ./node_modules/.bin/redocly lint --format=summary ../../bin/openapi.json

# Kubernetes: the Helm chart, its plain render and the schemas it is checked against
# (docs/kubernetes.md). helm and kubeconform are pinned Go modules in tools/go.mod, built
# by `go tool` on first use (minutes on 2 cores, then cached).
TOOLS       := $(GO) tool -modfile=tools/go.mod
CHART       := deploy/helm/hapa
CHART_OUT   := bin/chart-check
SCHEMA_LOC  := deploy/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json
# The plain manifests: the chart with your own Secret and migrations at start.
MANIFEST_SETS := --set secrets.existingSecret=hapa-secrets --set migrations.job=false --set ingress.enabled=true
MANIFEST_HEAD := "\# Rendered from deploy/helm/hapa by \`make manifests\` (helm template hapa $(MANIFEST_SETS) --skip-tests); do not edit."

# helm lint --strict and helm template with the default values and with each
# deploy/helm/hapa/ci/*-values.yaml, every render checked by kubeconform -strict against
# deploy/schemas; fails when deploy/kubernetes/hapa.yaml, the chart's copy of the alert
# rules or the schemas are not what their sources give.
chart-check:
	@rm -rf $(CHART_OUT) && mkdir -p $(CHART_OUT)/render
	$(TOOLS) helm lint --strict $(CHART)
	$(TOOLS) helm template hapa $(CHART) > $(CHART_OUT)/render/default.yaml
	@for v in $(CHART)/ci/*-values.yaml; do \
		echo "helm lint --strict / helm template -f $$v"; \
		$(TOOLS) helm lint --strict --quiet $(CHART) -f $$v >/dev/null && \
		$(TOOLS) helm template hapa $(CHART) -f $$v > $(CHART_OUT)/render/$$(basename $$v) || exit 1; \
	done
	@{ echo $(MANIFEST_HEAD); $(TOOLS) helm template hapa $(CHART) $(MANIFEST_SETS) --skip-tests; } > $(CHART_OUT)/manifests.yaml
	@cmp -s $(CHART_OUT)/manifests.yaml deploy/kubernetes/hapa.yaml || { diff -u deploy/kubernetes/hapa.yaml $(CHART_OUT)/manifests.yaml | head -40; echo "deploy/kubernetes/hapa.yaml is stale: run make manifests"; exit 1; }
	@cmp -s deploy/prometheus/alerts.yml $(CHART)/files/alerts.yml || { echo "$(CHART)/files/alerts.yml differs from deploy/prometheus/alerts.yml: run make manifests"; exit 1; }
	@cd tools && $(GO) run ./schemagen -out ../$(CHART_OUT)/schemas
	@diff -r deploy/schemas $(CHART_OUT)/schemas >/dev/null || { echo "deploy/schemas is stale: run make schemas"; exit 1; }
	$(TOOLS) kubeconform -strict -summary -schema-location '$(SCHEMA_LOC)' $(CHART_OUT)/render/*.yaml deploy/kubernetes/hapa.yaml

# Renders deploy/kubernetes/hapa.yaml and copies the alert rules into the chart.
manifests:
	cp deploy/prometheus/alerts.yml $(CHART)/files/alerts.yml
	{ echo $(MANIFEST_HEAD); $(TOOLS) helm template hapa $(CHART) $(MANIFEST_SETS) --skip-tests; } > deploy/kubernetes/hapa.yaml

# Regenerates deploy/schemas from the Kubernetes and prometheus-operator Go types.
schemas:
	cd tools && $(GO) run ./schemagen -out ../deploy/schemas

docker:
	docker build -t hapa:$(VERSION) --build-arg VERSION=$(VERSION) .

# Every scenario of docs/performance.md (gateway and simulator as child processes on
# 127.0.0.1; about 5 minutes on 2 cores). BENCH_FLAGS="--scale 2" runs longer rounds;
# BASELINE=path/to/an/earlier/hapa runs that build's gateway beside this one.
bench: build
	./$(BIN) bench suite --out docs/performance.md $(if $(BASELINE),--baseline $(BASELINE)) $(BENCH_FLAGS)

clean:
	rm -rf bin

# ---- editor clients (Node >= 18 and npm; docs/editors.md) ------------------------
NPM    ?= npm
NPM_CI := $(NPM) ci --no-audit --no-fund --loglevel=error
TSDIR  := clients/typescript
VSDIR  := clients/vscode

# npm ci and build both packages: the TypeScript client (dist/), the browser module
# static/js/hapa-realtime.js built from it (committed), the extension (out/, dist/).
clients: clients-deps
	cd $(TSDIR) && $(NPM) run build && node scripts/build-browser.mjs
	cd $(VSDIR) && $(NPM) run build && $(NPM) run bundle

clients-deps:
	cd $(TSDIR) && $(NPM_CI)
	cd $(VSDIR) && $(NPM_CI)

# Both npm test suites against a real gateway and simulator started from bin/hapa. The
# browser module is checked before make clients rewrites it.
clients-test: build
	$(MAKE) check-clients
	$(MAKE) clients
	cd $(TSDIR) && HAPA_BIN=$(CURDIR)/$(BIN) $(NPM) test
	cd $(VSDIR) && HAPA_BIN=$(CURDIR)/$(BIN) $(NPM) test

# Fails when static/js/hapa-realtime.js differs from what the client's sources build
# (the browser module is generated code: run make clients and commit it).
check-clients:
	@test -d $(TSDIR)/node_modules/esbuild || (cd $(TSDIR) && $(NPM_CI))
	@tmp=$$(mktemp --suffix=.js) && (cd $(TSDIR) && node scripts/build-browser.mjs $$tmp >/dev/null) && \
	if ! cmp -s $$tmp static/js/hapa-realtime.js; then \
		diff -u static/js/hapa-realtime.js $$tmp | head -40; rm -f $$tmp; \
		echo "static/js/hapa-realtime.js is stale: run make clients and commit it"; exit 1; \
	fi; rm -f $$tmp; echo "static/js/hapa-realtime.js is current"

# The VS Code extension package: clients/vscode/dist/hapa-vscode.vsix.
vsix: clients
	cd $(VSDIR) && $(NPM) run package

# Keystroke-to-first-token of 100 inline completions, socket against one HTTP request
# per completion (docs/editors.md, "Measured").
bench-editors: build clients
	cd $(TSDIR) && HAPA_BIN=$(CURDIR)/$(BIN) node bench/editor-latency.mjs $(BENCH_FLAGS)
