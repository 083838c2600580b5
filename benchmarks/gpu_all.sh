#!/usr/bin/env bash
# Every GPU benchmark of the project in one run (benchmarks/gpu_all.py), under 8 minutes on one H100/H200.
#
#   bash benchmarks/gpu_all.sh [--out DIR] [gpu_all.py options]   # GPU machine: JSON + Markdown in DIR ($OUT)
#   bash benchmarks/gpu_all.sh --dry-run --out /tmp/g             # CPU, toy sizes, about a minute (in the tests)
#
# The GPU machine of this project (Python 3.12, torch 2.11 + CUDA 13, torchvision, transformers, timm,
# numpy, scipy, opencv, triton; no network) lacks PyAV, open_clip, ftfy/wcwidth, diffusers and torchcodec.
# Carry them as wheels in .whl/ (git-ignored; 46.9 MB of wheels, about 49 MB with this tree, under the
# 64 MiB a call may carry). Made here, once, from the repository root:
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
#     av==18.1.0 open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4 diffusers==0.42.1 torchcodec==0.11.1
#
# (av 35.8 MB: PyAV with FFmpeg 8 bundled; open_clip_torch 1.5 MB: the CLIP BPE of ViCLIP's tokenizer;
# ftfy + wcwidth 0.8 MB: open_clip's text cleaning; diffusers 6.4 MB: the Wan transformer of pmwd_cost
# (its other needs are on that machine); torchcodec 0.11.1 2.3 MB: the release for torch 2.11,
# CPU-only on PyPI (its CUDA/NVDEC build comes from download.pytorch.org, which is not reachable from
# here), and it loads FFmpeg 8 from PyAV's wheel through the links made below.) Then, with the device
# tool: command `bash benchmarks/gpu_all.sh --out $OUT`, carry [".whl"], timeout 600 s.
#
# When .whl/ exists, the wheels are installed into /tmp/mvbench-site (no network, no dependencies
# resolved) and put on PYTHONPATH; the repository itself is used in place (PYTHONPATH=., no install).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
dry=0
for a in "$@"; do [[ "$a" == "--dry-run" ]] && dry=1; done
if [[ $dry == 0 && -d .whl ]] && compgen -G ".whl/*.whl" > /dev/null; then
  site=/tmp/mvbench-site
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
  export PYTHONPATH="$PYTHONPATH:$site"
  # torchcodec needs FFmpeg's shared libraries under their plain names: link PyAV's bundled FFmpeg
  if [[ -d "$site/av.libs" ]]; then
    links=/tmp/mvbench-ffmpeg
    mkdir -p "$links"
    for lib in "$site"/av.libs/lib{av,sw}*.so.*; do
      base=$(basename "$lib")
      name=${base%%-*}
      major=$(sed -E 's/.*\.so\.([0-9]+).*/\1/' <<< "$base")
      ln -sf "$lib" "$links/$name.so.$major"
    done
    export LD_LIBRARY_PATH="$links:$site/av.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
if [[ $dry == 1 ]]; then
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
fi
exec "$PY" benchmarks/gpu_all.py "$@"
