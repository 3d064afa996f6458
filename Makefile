# The two commands: `make run` (the system with a demo scenario) and `make test`.
PY := .venv/bin/python

.PHONY: install run demo test lint schemas bench kafka-start kafka-stop clean

install:
	bash scripts/bootstrap.sh

run: install
	bash deploy/kafka.sh start
	$(PY) -m deploy.demo

test:
	bash scripts/bootstrap.sh --postgres
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	$(PY) -m pytest

schemas:
	$(PY) -m schemas.generate

bench: install
	bash deploy/kafka.sh start
	$(PY) -m bench

kafka-start:
	bash deploy/kafka.sh start

kafka-stop:
	bash deploy/kafka.sh stop

clean:
	bash deploy/kafka.sh reset
	rm -rf var
