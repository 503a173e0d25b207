# One command each for the README: start the dashboard, and install what the tests need and run them.
.PHONY: run test test-fast

# Fashion-MNIST comes from Debian's package where apt-get is there; elsewhere the studio says where to put it.
run:
	python -m pip install -q -r requirements.txt
	[ -d /usr/share/datasets/fashion-mnist ] || ! command -v apt-get >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null || true; }
	streamlit run streamlit_app.py

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
test:
	python -m pip install -q -r requirements-dev.txt
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }
	ruff check .
	python -m pytest -n 2 --dist loadfile

# The quick lane, before each commit: no training runs, no subprocesses of the studio, no browser.
test-fast:
	ruff check .
	python -m pytest -m "not slow and not browser"
