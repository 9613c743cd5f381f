# Palabre: `make run` installs everything and starts the server; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
MO := translations/fr/LC_MESSAGES/messages.mo

.PHONY: run test lint bench screenshots clean

$(STAMP): requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-dev.txt constraints.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(TEST_STAMP)

$(MO): translations/fr/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d translations

run: $(STAMP) $(MO)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/python wsgi.py

# With PALABRE_POSTGRES_URL set (CI sets it), the services and Socket.IO tests run a second
# time on that PostgreSQL database.
PG_TESTS := tests/test_sessions_service.py tests/test_polls_service.py tests/test_wordclouds_service.py \
	tests/test_boards_service.py tests/test_socket_polls.py tests/test_writer.py tests/test_paper.py tests/test_pulse_hands.py \
	tests/test_reconnect_reads.py

# Both async modes stay first-class: the tests that start the real server (browsers aside) run a
# second time under the mode that is not the default (live/runtime.py names the default), but
# for those marked `once` (tests/conftest.py): they name their mode themselves and so already
# ran under both, or repeat a benchmark scenario with its other client.
OTHER_MODE = $(shell $(BIN)/python -c "from live.runtime import DEFAULT_MODE, MODES; print(*(m for m in MODES if m != DEFAULT_MODE))")

# The suite waits on sockets, processes and browsers more than it computes: the SQLite stage and
# the other mode's pass run on TEST_WORKERS pytest-xdist workers (`--dist loadgroup`: the tests
# that load the machine or measure time share one worker, one after the other; tests/conftest.py
# names them). The PostgreSQL stage is one process (one database; each run clears the schemas
# earlier runs left) and runs beside the other mode's pass, whose heavy tests keep one worker
# busy after the other is done; its report follows that pass's. The two never share a schema
# (the benchmark's are named apart). `make test TEST_WORKERS=0` runs everything in one process.
TEST_WORKERS ?= 2
PARALLEL = $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup)

test: $(TEST_STAMP) $(MO)
	$(BIN)/ruff check live bench tests scripts wsgi.py
	env -u PALABRE_TEST_DATABASE_URL $(BIN)/python -m pytest -q -rfE $(PARALLEL)
	@pg_log=$$(mktemp); pg=; \
	if [ -n "$$PALABRE_POSTGRES_URL" ]; then \
		PALABRE_TEST_DATABASE_URL="$$PALABRE_POSTGRES_URL" $(BIN)/python -m pytest -q -rfE \
			-p no:cacheprovider $(PG_TESTS) > "$$pg_log" 2>&1 & pg=$$!; \
	fi; \
	echo "The real server's tests again, under $(OTHER_MODE)$${pg:+ (and, beside them, on PostgreSQL)}:"; \
	status=0; \
	env -u PALABRE_TEST_DATABASE_URL PALABRE_TEST_ASYNC_MODE=$(OTHER_MODE) $(BIN)/python -m pytest -q -rfE \
		$(PARALLEL) -m "server and not browser and not once" || status=$$?; \
	if [ -n "$$pg" ]; then \
		wait $$pg || status=$$?; \
		echo "Services and Socket.IO again, on PostgreSQL:"; cat "$$pg_log"; \
	fi; \
	rm -f "$$pg_log"; exit $$status

lint: $(TEST_STAMP)
	$(BIN)/ruff check live bench tests scripts wsgi.py

bench: $(TEST_STAMP) $(MO)
	$(BIN)/python -m bench burst
	$(BIN)/python -m bench wordcloud

clean:
	rm -rf $(VENV) .pytest_cache
