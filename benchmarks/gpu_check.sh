#!/usr/bin/env bash
# The GPU check of issue 23: one JSON line per step (see benchmarks/gpu_check.py).
#
#   benchmarks/gpu_check.sh             on a CUDA machine (under 8 minutes on one H100); the lines also
#                                       go to benchmarks/results/<gpu>.jsonl
#   benchmarks/gpu_check.sh --dry-run   the same steps on the CPU with tiny shapes (the tests run this)
#
# No network is needed. Python packages the image lacks are installed from a folder of wheels, if there
# is one: $WHEELS, else benchmarks/wheels or ./wheels (pip download them beforehand on a machine online,
# e.g. `pip download -d wheels attrs cattrs platformdirs rich gguf nvidia-ml-py bitsandbytes`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"  # the image's Python, with its torch

wheels=""
for d in "${WHEELS:-}" benchmarks/wheels wheels; do
  if [ -n "$d" ] && compgen -G "$d/*.whl" >/dev/null; then wheels="$d"; break; fi
done

# import name -> distribution name, for what the project needs (bitsandbytes only for the 4-bit step)
missing=$("$PYTHON" - <<'PY'
import importlib.util
need = {"torch": "torch", "lightning": "lightning", "transformers": "transformers", "peft": "peft",
        "accelerate": "accelerate", "safetensors": "safetensors", "tokenizers": "tokenizers", "attrs": "attrs",
        "cattrs": "cattrs", "platformdirs": "platformdirs", "psutil": "psutil", "pynvml": "nvidia-ml-py",
        "rich": "rich", "gguf": "gguf", "numpy": "numpy", "pyarrow": "pyarrow", "datasets": "datasets",
        "bitsandbytes": "bitsandbytes"}
print(" ".join(dist for mod, dist in need.items() if importlib.util.find_spec(mod) is None))
PY
)
if [ -n "$missing" ]; then
  if [ -n "$wheels" ]; then
    for dist in $missing; do  # one at a time: a wheel that is absent must not stop the others
      "$PYTHON" -m pip install --quiet --no-index --find-links "$wheels" "$dist" >&2 \
        || echo "gpu_check: no usable wheel for $dist in $wheels" >&2
    done
  else
    echo "gpu_check: missing packages and no wheel folder: $missing" >&2
  fi
fi

export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PEFTSTUDIO_HOME="${PEFTSTUDIO_HOME:-$(mktemp -d)}"
exec "$PYTHON" benchmarks/gpu_check.py "$@"
