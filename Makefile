# hivemerge: `make demo` runs the demo stack, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
# The race detector slows tests about threefold; CI keeps it on.
GOTESTFLAGS ?= -race -count=1 -timeout 20m

.PHONY: demo demo-reset test go-test fuzz infra-check lint bench build package deploy console console-test console-unit console-e2e
ENV ?= dev
FUZZTIME ?= 20s

demo: ## Hive sandbox + local server with the REST API and the console on the embedded store
	bash scripts/demo.sh

demo-reset: ## delete the demo's state (HIVEMERGE_DEMO_DIR, default var/demo); refuses while a demo runs
	bash scripts/demo-reset.sh

test: lint console go-test fuzz infra-check console-test ## everything CI runs

go-test:
	$(GO) test $(GOTESTFLAGS) $(PKGS)

fuzz: ## bounded runs of the fuzz targets over their committed corpora
	$(GO) test -run '^$$' -fuzz '^FuzzParsers$$' -fuzztime $(FUZZTIME) ./shared/hive
	$(GO) test -run '^$$' -fuzz '^FuzzStatementStructure$$' -fuzztime $(FUZZTIME) ./shared/hive/hql
	$(GO) test -run '^$$' -fuzz '^FuzzExecute$$' -fuzztime $(FUZZTIME) ./shared/hivesandbox/hiveql

infra-check: ## Terraform fmt, validate, test and tflint offline, plus self-tests (the Go tests run in go-test)
	bash infra/scripts/check.sh --no-go

package: console ## the Cloud Functions source archive Terraform uploads (with the built console): dist/function-source.zip
	bash infra/scripts/package.sh

deploy: ## make deploy ENV=dev (needs TF_STATE_BUCKET, Google credentials, infra/envs/$(ENV)/terraform.tfvars)
	bash infra/scripts/deploy.sh $(ENV)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

bench: ## benchmarks; figures go to docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m $(PKGS)

build:
	$(GO) build -o bin/ ./functions/cmd/local ./functions/cmd/hivemerge

# The web console: an npm project in functions/console/ui, built into functions/console/dist/app,
# which the Go binary embeds. npm ci installs exactly the lockfile.
CONSOLE_UI := functions/console/ui

console: $(CONSOLE_UI)/node_modules/.package-lock.json ## build the web console into the Go embed directory (npm ci + vite build)
	cd $(CONSOLE_UI) && npm run build

# npm ci again only when the lockfile changed.
$(CONSOLE_UI)/node_modules/.package-lock.json: $(CONSOLE_UI)/package-lock.json
	cd $(CONSOLE_UI) && npm ci --no-audit --no-fund
	touch $@

console-test: console-unit console-e2e ## the console's component and end-to-end tests

console-unit:
	cd $(CONSOLE_UI) && npm test

# Debian's Chromium against the real local server and Hive sandbox; needs `make console` first.
console-e2e:
	cd $(CONSOLE_UI) && npm run e2e
