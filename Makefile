# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment it needs (.venv) and installs what is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench fuzz setup graphviz pictures docs docs-tables clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	  else echo "Graphviz's dot is missing: install it (apt-get install graphviz / brew install graphviz)"; fi; }

# tmux lets a test drive `catdsl learn --watch` in a real terminal (skipped without it).
.PHONY: tmux
tmux:
	@command -v tmux >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; } \
	    || echo "tmux could not be installed: the terminal test of catdsl learn --watch will be skipped"; \
	  else echo "tmux is missing: the terminal test of catdsl learn --watch will be skipped"; fi; }

# Headless Chromium lets a test open the built site and look at it (skipped without it).
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	    || echo "Chromium could not be installed: the site's browser test will be skipped"; \
	  else echo "Chromium is missing: the site's browser test will be skipped"; fi; }

demo: setup graphviz
	$(BIN)/catdsl check programs/tiny_ml.cat programs/card.cat
	$(BIN)/catdsl run programs/tiny_ml.cat predict --input 1
	$(BIN)/catdsl run programs/tiny_ml.cat loss_before
	$(BIN)/catdsl run programs/tiny_ml.cat loss_after
	$(BIN)/catdsl laws programs/tiny_ml.cat
	$(BIN)/catdsl train programs/tiny_ml.cat step --steps 80 --plot out/loss.png
	$(BIN)/catdsl draw programs/tiny_ml.cat predict -o out/predict.svg
	@echo "demo done: see out/"

test: setup graphviz tmux chromium
	$(BIN)/pip install -q torch==2.13.0 || { [ -z "$$CI" ] || exit 1; echo "PyTorch not installable here: its comparison tests will be skipped"; }
	$(BIN)/pip install -q -e '.[onnx]' || { [ -z "$$CI" ] || exit 1; echo "the onnx extra is not installable here: the ONNX export tests will be skipped"; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/check_scaling.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/draw_scaling.py

# The long fuzz run: 100,000 seeded mutations through the API and, for a sample, the CLI
# (docs/running.md, "Fuzzing"). Exits 1 when it finds an internal error or a hang.
fuzz: setup
	$(BIN)/python bench/fuzz.py --n 100000

# The course's pictures in docs/diagrams.md, drawn from the programs themselves.
pictures: setup graphviz
	$(BIN)/catdsl draw programs/tiny_ml.cat predict -o docs/img/course_pipeline.png
	$(BIN)/catdsl draw programs/tiny_ml.cat loss -o docs/img/course_product.png
	$(BIN)/catdsl draw programs/tiny_ml.cat loss_after --expand 1 -o docs/img/course_training.png
	$(BIN)/catdsl draw programs/tiny_ml.cat composed_is_direct -o docs/img/course_triangle.png
	$(BIN)/catdsl draw programs/card.cat pipeline -o docs/img/course_card.png
	-$(BIN)/catdsl draw programs/errors/embedding_softmax.cat -o docs/img/course_illegal.png
	-$(BIN)/catdsl draw programs/errors/crossentropy_on_logits.cat -o docs/img/illegal.png
	$(BIN)/catdsl draw programs/tiny_ml.cat loss --expand 2 -o docs/img/loss_expand2.png
	$(BIN)/catdsl draw programs/tiny_ml.cat trained --expand 3 -o docs/img/trained_expand3.png
	$(BIN)/catdsl draw programs/tiny_ml.cat -o docs/img/page.png
	$(BIN)/catdsl draw programs/tiny_ml.cat left_identity -o docs/img/law_triangle.png
	$(BIN)/catdsl draw programs/tiny_ml.cat associativity -o docs/img/law_square.png
	$(BIN)/catdsl draw programs/card.cat fused_is_composed -o docs/img/law_parallel.png
	$(BIN)/catdsl draw programs/structure.cat First.naturality -o docs/img/naturality_square.png
	$(BIN)/catdsl draw programs/structure.cat Trace.associativity -o docs/img/trace_regrouping.png
	$(BIN)/catdsl draw programs/structure.cat First.naturality -o docs/img/course/naturality.svg
	$(BIN)/catdsl draw programs/structure.cat Trace.associativity -o docs/img/course/monoid.svg
	$(BIN)/catdsl draw programs/composition.cat interchange -o docs/img/law_interchange.png
	$(BIN)/catdsl draw programs/tiny_ml.cat predict -o docs/img/course/pipeline.svg
	-$(BIN)/catdsl draw programs/errors/embedding_softmax.cat -o docs/img/course/illegal.svg
	$(BIN)/catdsl draw programs/tiny_ml.cat loss -o docs/img/course/product.svg
	$(BIN)/catdsl draw programs/tiny_ml.cat composed_is_direct -o docs/img/course/triangle.svg
	$(BIN)/catdsl draw programs/tiny_ml.cat loss_after --expand 1 -o docs/img/course/training.svg
	$(BIN)/catdsl draw programs/composition.cat associativity -o docs/img/course/associativity.svg
	$(BIN)/catdsl draw programs/adam_challenge.cat two_steps --expand 1 -o docs/img/course/adam.svg
	$(BIN)/catdsl draw programs/card.cat pipeline -o docs/img/course/card.svg
	$(BIN)/catdsl draw programs/transformer/course.cat block -o docs/img/transformer_block.png
	$(BIN)/catdsl draw programs/transformer/course.cat pre_norm_block -o docs/img/transformer_pre_norm.png
	$(BIN)/catdsl draw programs/transformer/shape_lab.cat feed_forward --expand 8 -o docs/img/transformer_shape_trace.png
	$(BIN)/catdsl draw programs/transformer/course.cat ex07_step_count --expand 1 -o docs/img/transformer_train_steps.png
	$(BIN)/catdsl draw programs/transformer/course.cat block -o docs/img/course/block.svg
	$(BIN)/catdsl draw programs/transformer/shape_lab.cat feed_forward --expand 8 -o docs/img/course/shape_trace.svg
	$(BIN)/catdsl draw programs/transformer/course.cat ex07_step_count -o docs/img/course/train_steps.svg
	mkdir -p docs/img/sketches
	$(BIN)/catdsl draw programs/sketches/orders.cat galois -o docs/img/sketches/galois.png
	$(BIN)/catdsl draw programs/sketches/resources.cat bundle_sum -o docs/img/sketches/bundle_sum.png
	$(BIN)/catdsl draw programs/sketches/databases.cat BossTeam -o docs/img/sketches/databases.svg
	$(BIN)/catdsl draw programs/sketches/codesign.cat buildable -o docs/img/sketches/codesign.svg
	$(BIN)/catdsl draw programs/sketches/signal_flow.cat flow -o docs/img/sketches/signal_flow.svg
	$(BIN)/catdsl draw programs/sketches/behaviour.cat Conjoin -o docs/img/sketches/behaviour.svg
	$(BIN)/catdsl draw programs/sketches/circuits.cat interchange -o docs/img/sketches/interchange.png
	$(BIN)/catdsl draw programs/sketches/orders.cat galois -o docs/img/course/galois.svg
	$(BIN)/catdsl draw programs/sketches/resources.cat Resources.associativity -o docs/img/course/resources.svg
	$(BIN)/catdsl draw programs/sketches/signal_flow.cat functoriality -o docs/img/course/signal_flow.svg
	$(BIN)/catdsl draw programs/sketches/behaviour.cat gluing_is_local -o docs/img/course/behaviour.svg
	$(BIN)/catdsl draw programs/sketches/databases.cat manager_same_department -o docs/img/course/databases.svg
	$(BIN)/catdsl draw programs/sketches/codesign.cat composition_is_exists -o docs/img/course/codesign.svg
	$(BIN)/catdsl draw programs/sketches/circuits.cat interchange -o docs/img/course/circuits.svg

# The site (the course book and the reference) in site/; a warning is an error.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) out .pytest_cache

# The primitive tables of docs/language.md, regenerated from the primitive specs.
docs-tables: setup
	$(BIN)/python -m catdsl.std.doc_tables docs/language.md
