# The two commands: `make run` (the system with a demo scenario) and `make test`.
PY := .venv/bin/python

.PHONY: install run demo test lint schemas bench migrate kafka-start kafka-stop clean

install:
	bash scripts/bootstrap.sh

run: install
	bash deploy/kafka.sh start
	$(PY) -m deploy.demo

test:
	bash scripts/bootstrap.sh --tests
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	$(PY) -m pytest

# Each service's database (MAPPA_<SERVICE>_DATABASE_URL, else var/<service>.db) to its code's schema.
migrate: install
	$(PY) -m deploy.migrate

schemas:
	$(PY) -m schemas.generate

# PostgreSQL too (bootstrap --postgres, nothing else the tests need): the scale-out run's replicas
# share a database per service.
bench:
	bash scripts/bootstrap.sh --postgres
	bash deploy/kafka.sh start
	$(PY) -m bench

kafka-start:
	bash deploy/kafka.sh start

kafka-stop:
	bash deploy/kafka.sh stop

clean:
	bash deploy/kafka.sh reset
	rm -rf var
