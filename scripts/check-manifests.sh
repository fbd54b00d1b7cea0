#!/usr/bin/env bash
# Checks the engines' YAML offline: yamllint over the Kubernetes manifest and
# the GitHub Actions workflow, and kubernetes-validate (the Kubernetes API's
# own schemas, strict: unknown fields are errors) over the manifest. Both come
# from PyPI at pinned versions into a virtualenv made once (VENV, default
# target/yaml-venv); the Rust test tests/integration/engines.rs also parses
# both files and checks that they split the work as --shard counts it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-target/yaml-venv}
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/yamllint" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        yamllint==1.38.0 kubernetes-validate==1.37.0
fi
# `on:` is a GitHub Actions key, not a boolean; the manifest's comments hold long commands.
"$venv/bin/yamllint" --strict -d '{extends: default, rules: {line-length: {max: 120},
    document-start: disable, truthy: {check-keys: false}}}' \
    scripts/k8s/concbench-job.yaml scripts/github/sharded-sweep.yml
# 1.31: a Kubernetes with backoffLimitPerIndex on by default (beta from 1.29, GA in 1.33).
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.31.0 scripts/k8s/concbench-job.yaml
echo "YAML ok: yamllint $("$venv/bin/yamllint" --version | cut -d' ' -f2), kubernetes-validate $("$venv/bin/kubernetes-validate" --version)"
