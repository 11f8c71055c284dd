DB ?= online_sync_demo
N ?= 1000

.PHONY: demo test bench load screenshots

demo:
	bash scripts/demo.sh $(DB)

test:
	bash scripts/test.sh

screenshots:
	bash scripts/screenshots.sh

bench:
	bash scripts/bench.sh $(N)

load: N = 500
load:
	bash scripts/load.sh $(N)
