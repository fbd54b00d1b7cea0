#!/usr/bin/env bash
# Makes .venv-python/ (git-ignored) with the packages the Python models under
# scripts/python/ need, pinned in scripts/python/requirements.txt, from PyPI.
# Then, e.g.:
#   concbench run --external py-async='.venv-python/bin/python scripts/python/asyncio_aiohttp.py'
# or the scenario scenarios/python-vs-rust.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
    echo "no $python on PATH; install Python 3.9 or later (or set PYTHON)" >&2
    exit 2
fi
if [ ! -x .venv-python/bin/python ]; then
    "$python" -m venv .venv-python
fi
.venv-python/bin/python -m pip install --quiet --disable-pip-version-check \
    -r scripts/python/requirements.txt
.venv-python/bin/python -c 'import requests, aiohttp, aiomultiprocess; print("python models ready in .venv-python/:", "requests", requests.__version__, "aiohttp", aiohttp.__version__)'
