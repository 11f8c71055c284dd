DB ?= online_sync_demo
N ?= 1000

.PHONY: demo test bench memory load

demo:
	bash scripts/demo.sh $(DB)

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh $(N)

memory:
	bash scripts/memory.sh $(N)

load: N = 500
load:
	bash scripts/load.sh $(N)
