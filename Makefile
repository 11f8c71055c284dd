DB ?= online_sync_demo
N ?= 1000

.PHONY: demo test bench memory load i18n screenshots

demo:
	bash scripts/demo.sh $(DB)

test:
	bash scripts/test.sh

screenshots:
	bash scripts/screenshots.sh

bench:
	bash scripts/bench.sh $(N)

memory:
	bash scripts/memory.sh $(N)

load: N = 500
load:
	bash scripts/load.sh $(N)

i18n:
	bash scripts/i18n.sh
