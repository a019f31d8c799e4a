#!/usr/bin/env bash
# Create or reuse the project's virtual environment, install the pinned stack, register the Jupyter kernel.
#
#   scripts/setup.sh            # runtime + JupyterLab (what `make demo` needs)
#   scripts/setup.sh --test     # + test tools, pyspark and headless Chromium (what `make test` needs)
#
# Re-running is cheap: nothing is reinstalled unless pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${CREDITMODEL_VENV:-.venv}
PYTHON=${PYTHON:-}
EXTRAS="lab"
WANT_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WANT_TEST=1; EXTRAS="lab,dev,spark" ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ -z "$PYTHON" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$cand; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "setup.sh: creditmodel needs Python 3.11 (python3.11 or python3 on PATH)" >&2; exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip>=24"
fi

stamp="$VENV/.creditmodel-installed"
# kernel2: the kernel spec changed (inline figures); a new tag re-registers it in an existing venv
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-kernel2 extras=$EXTRAS"
have="$(cat "$stamp" 2>/dev/null || true)"
# an install with more extras also satisfies a request for fewer
if [ "$have" != "$want" ] && ! { [ "$EXTRAS" = "lab" ] && [ "${have% extras=*}" = "${want% extras=*}" ]; }; then
  echo "==> installing creditmodel[$EXTRAS] with pinned versions (constraints.txt)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c constraints.txt -e ".[$EXTRAS]" 2>&1 | grep -v "is ignored: it is neither" || true
  "$VENV/bin/python" -c "import creditmodel" || { echo "setup.sh: install failed" >&2; exit 1; }
  # the venv's own interpreter, by absolute path, so papermill and JupyterLab use it without activation
  # figures inline whatever MPLBACKEND the caller has (env.sh sets Agg for the command-line tools): with Agg
  # the executed notebooks held no plots
  "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 \
      --display-name "Python 3 (creditmodel)" --env MPLBACKEND module://matplotlib_inline.backend_inline >/dev/null
  echo "$want" > "$stamp"
fi

if [ "$WANT_TEST" = 1 ]; then
  # headless Chromium renders the validation report in the browser test
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "==> installing Debian chromium for the browser test"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || echo "setup.sh: could not install chromium; the browser test will skip" >&2
    else
      echo "setup.sh: chromium not found and not root; the browser test will skip" >&2
    fi
  fi
  # Java for the Spark scoring test
  if ! command -v java >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing a Java runtime for the Spark test"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
      || echo "setup.sh: could not install Java; the Spark test will skip" >&2
  fi
fi
