#!/usr/bin/env bash
# Rebuild the benchmark corpus: the .py files of pinned PyPI wheels of real PyTorch libraries, unzipped into DIR.
#
#   bench/corpus.sh DIR
#
# Wheels are pure Python except torchvision, fetched for one fixed platform so that every run gets the same
# files. Needs `pip` and `unzip` (or python's zipfile) and network access to PyPI; prints files and lines.
set -euo pipefail

DIR=${1:?usage: bench/corpus.sh DIR}
PINS=(
    transformers==4.46.3
    timm==1.0.11
    torchvision==0.20.1
    pytorch-lightning==2.4.0
    peft==0.13.2
    torchtune==0.4.0
    accelerate==1.1.1
    ultralytics==8.3.40
    sentence-transformers==3.3.1
    fastai==2.7.18
    diffusers==0.31.0
    torchmetrics==1.6.0
    kornia==0.7.4
)
WHEELS=$(mktemp -d)
trap 'rm -rf "$WHEELS"' EXIT

python -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux1_x86_64 \
    --python-version 3.11 --implementation cp --dest "$WHEELS" "${PINS[@]}"

rm -rf "$DIR"
mkdir -p "$DIR"
for wheel in "$WHEELS"/*.whl; do
    name=$(basename "$wheel" | cut -d- -f1)
    python - "$wheel" "$DIR/$name" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    archive.extractall(sys.argv[2], [n for n in archive.namelist() if n.endswith(".py")])
PY
done

files=$(find "$DIR" -name '*.py' -type f | wc -l)
lines=$(find "$DIR" -name '*.py' -type f -print0 | xargs -0 cat | wc -l)
echo "corpus $DIR: $files files, $lines lines"
