# Two entry points: `make demo` (set up + run the demo) and `make test` (set up + run every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup lint bench bench-evidence clean prometheus chromium faketime kubectl checkov manifests axe-core

# The demo and the test fakes are a distribution of their own (deploy/demo, posture-agent-demo): the
# agent's `demo` extra requires it, and this installs it from the repository next to the agent.
$(STAMP): pyproject.toml deploy/demo/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,demo]" -e ./deploy/demo
	touch $(STAMP)

setup: $(STAMP)

# Prometheus is a Debian package; tests that need it install it when missing (root, apt).
prometheus:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || \
	  { (apt-get update -qq && apt-get install -y -qq prometheus >/dev/null) || \
	    echo "warning: could not install prometheus (Debian package); its tests will fail"; }

# Chromium renders report.html in the report tests (Debian package `chromium`, /usr/bin/chromium);
# installed when missing like prometheus. Without it those tests skip loudly, or fail when CI=true.
chromium:
	@command -v chromium >/dev/null || \
	  { (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	    echo "warning: could not install chromium (Debian package); the report tests will skip (fail when CI=true)"; }

# axe-core checks the web console's pages for accessibility in its browser test (injected by Playwright);
# from the npm registry into .axe/ (ignored by git). Without it that check skips loudly, or fails when CI=true.
AXE_VERSION := 4.14.1
AXE_DIR     := .axe
axe-core:
	@grep -qs '"version": "$(AXE_VERSION)"' $(AXE_DIR)/node_modules/axe-core/package.json || \
	  npm install --silent --no-audit --no-fund --prefix $(AXE_DIR) axe-core@$(AXE_VERSION) >/dev/null || \
	  echo "warning: could not install axe-core $(AXE_VERSION) (npm); the console's accessibility check will skip (fail when CI=true)"

# kubectl renders the Kustomize overlays of deploy/kubernetes in tests/deploy (`kubectl kustomize`,
# offline); installed when missing like prometheus. Without it those tests skip loudly, or fail when CI=true.
kubectl:
	@command -v kubectl >/dev/null || \
	  { (apt-get update -qq && apt-get install -y -qq kubectl >/dev/null) || \
	    echo "warning: could not install kubectl (Debian package); the deploy tests will skip (fail when CI=true)"; }

# checkov scans the rendered Kubernetes manifests in tests/deploy. Its pinned dependencies clash with
# ours (boto3, packaging), so it has a virtualenv of its own inside ours: $(CHECKOV).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := $(VENV)/checkov
CHECKOV         := $(CHECKOV_VENV)/bin/checkov
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	@{ $(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip && \
	   $(CHECKOV_VENV)/bin/pip install --quiet "checkov==$(CHECKOV_VERSION)" && touch $@; } || \
	  echo "warning: could not install checkov $(CHECKOV_VERSION); the deploy tests will skip (fail when CI=true)"

checkov: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

# libfaketime sets the local TSA's clock in bench/evidence.py (Debian package `faketime`).
faketime:
	@test -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 || \
	  { (apt-get update -qq && apt-get install -y -qq faketime >/dev/null) || \
	    echo "warning: could not install faketime (Debian package); bench/evidence.py needs it"; }

demo: $(STAMP)
	$(BIN)/posture-agent demo

test: $(STAMP) prometheus chromium axe-core kubectl checkov lint
	$(BIN)/pytest -q

LINTED := agent checks collectors tests bench deploy/verifier deploy/demo deploy/kubernetes

lint: $(STAMP)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy agent checks collectors deploy/verifier/posture_verify deploy/demo/posture_demo deploy/kubernetes/prometheusrule.py

# The allowlists, IAM policy, CloudFormation role and permission tables generated from what the
# collectors declare (collectors/permissions.py). Run it after adding an API call, and commit the result.
.PHONY: permissions
permissions: $(STAMP)
	$(BIN)/python -m collectors.permissions --write

# The PrometheusRule of deploy/kubernetes, generated from deploy/prometheus/alerts.yml. Run it after
# changing the rules, and commit the result (a test fails while the two differ).
manifests: $(STAMP)
	$(BIN)/python deploy/kubernetes/prometheusrule.py

# Every generated file a contributor commits: the check catalog, the permission files, the manifests.
.PHONY: docs
docs: permissions manifests
	$(BIN)/posture-agent checks list --format markdown > docs/checks.md

bench: $(STAMP)
	$(BIN)/python bench/daemon_cycle.py

bench-evidence: $(STAMP) faketime
	$(BIN)/python bench/evidence.py --db sqlite:////tmp/bench-year.db

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
