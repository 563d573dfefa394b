# Each target bootstraps .venv itself: a fresh clone needs only python3 and the package registry.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dr
FORMAT ?= text
STAMP := $(VENV)/.installed

.PHONY: plan test local lint bench soak clean constraints layer client screenshots gameday-sample

# The operator command `sdr` (ops/) is installed editable: it runs this checkout's code.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt ops/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e ./ops
	touch $(STAMP)

plan: $(STAMP)
	$(VENV)/bin/sdr plan --stack $(STACK) --format $(FORMAT)

# The blog in two local regions on 127.0.0.1 (real handlers over moto), with a control view to
# kill, hang, slow, throttle, drain, restore and promote a region. PORT=0 takes any free port.
PORT ?= 8000
local: $(STAMP)
	$(PY) -m verify.local --port $(PORT)

lint: $(STAMP)
	$(PY) -m ruff check --no-cache .
	$(PY) -m ruff format --no-cache --check .

# The project's bytecode, compiled once (in parallel, into the ignored __pycache__ directories)
# before the run: each test worker and each process a test starts would otherwise compile every
# module it imports again when the environment says PYTHONDONTWRITEBYTECODE (5 s a worker's
# collection instead of 2 on a fresh clone).
test: lint
	$(PY) -m compileall -q -j 0 -x '(^|/)(\.venv|node_modules|build)(/|$$)' .
	$(PY) -m pytest -n auto --dist worksteal

# The Lambda dependency layer (build/layer.zip): needed before `pulumi preview/up`, not by the tests.
layer: $(STAMP)
	$(VENV)/bin/sdr layer

# The API's Python client (clients/python), regenerated from the OpenAPI document.
client: $(STAMP)
	$(VENV)/bin/sdr client

bench: $(STAMP)
	$(PY) -m verify.bench

# The long guarantee runs (minutes): the tests marked soak (the IAM contract of the hardened
# stack, the stack tests on a user's own stack files, the API's schema fuzz at length), the fault
# suite over 3 seeds, the two-region simulation, the write lease over 1,000 partition/drift/crash
# schedules and a two-hour outage, and the browser outage (20 trials per kind), each rewriting its
# table in README.md; then the local run's outage, the page included (--smoke --browser).
soak: $(STAMP)
	$(PY) -m pytest -m soak -n auto --dist worksteal
	$(PY) -m verify.fault_suite --writes 4000 --seeds 1,2,3 --readme
	$(PY) -m verify.two_region_sim --readme
	PYTHONHASHSEED=0 $(PY) -m verify.partition_sim --schedules 1000 --lag 1 --workers 2 --readme
	$(PY) -m verify.browser_outage --trials 20 --readme
	$(PY) -m verify.local --smoke --browser

# The README's screenshots (docs/screenshots/), taken by the front-end test in headless Chromium.
# docs/gameday.md's sample report, from the game day run against a stubbed account.
gameday-sample: $(STAMP)
	$(PY) -m verify.gameday_sample

screenshots: $(STAMP)
	SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest -q -p no:cacheprovider -m "soak or not soak" tests/site/test_front_end.py -k "screenshots or dark_mode"
	$(PY) -m verify.local.screenshots docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build

# Regenerate constraints.txt from a clean install of requirements-dev.txt.
constraints:
	rm -rf /tmp/sdr-constraints && $(PYTHON) -m venv /tmp/sdr-constraints
	/tmp/sdr-constraints/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	(echo "# Transitive pins of requirements-dev.txt (pip freeze of a clean install). Regenerate with: make constraints"; \
	 /tmp/sdr-constraints/bin/pip freeze) > constraints.txt
