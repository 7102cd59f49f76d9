#!/usr/bin/env bash
# The golden check: every command the README shows, run on a small model trained on the test
# images with fixed seeds, and every file they write (and what they print) compared with the
# expectations in tests/golden/expected/ by tests/golden/compare.py: the same groups, datasets,
# dtypes, shapes, attributes and strings, and the same values to 1e-5 relative. Figures,
# animations and pages only have to be made (the same set of files). It guards refactors that
# must not change the program's behaviour or files.
#
# Usage: tests/golden.sh path/to/terrain [--update]
#   --update rewrites the expectations from this run: only for an intentional change of the
#   files, named in the commit (compare.py lists what it normalizes and why).
set -uo pipefail
terrain=$(realpath "$1")
update=${2:-}
source "$(dirname "$0")/lib.sh"
root=$(cd "$tests_dir/.." && pwd)
fixtures="$root/Tests/TerrainONNXTests/Fixtures"

echo "golden files of the README's commands"
if ! python3 -c "import h5py, numpy" 2>/dev/null; then
  skip "golden files (the comparison needs numpy and h5py)"
  finish "golden"; exit
fi

# Everything runs inside the scratch folder with relative paths, so that the paths the files
# record (checkpoints, data, direction files) are the same in every run; compare.py replaces the
# scratch folder itself where a command records an absolute path.
cd "$work" || exit 1
mkdir -p files/logs fixtures
cp "$fixtures"/{mlp,cnn}.{onnx,npz} fixtures/
# run NAME COMMAND...: runs `terrain COMMAND...`, keeping what it prints in files/logs/NAME.txt.
run() { local name=$1; shift; check "$name" bash -c '"$0" "$@" > "files/logs/'"$name"'.txt"' "$terrain" "$@"; }

mlp=files/run-mlp
final=$mlp/final.safetensors
# Training (README: the paper's recipe and the run-folder options), with explicit seeds.
run train-mlp train --quiet --model mlp --hidden 16 --dataset digits.csv.gz --epochs 2 --batch-size 64 \
  --lr 0.05 --seed 0 --model-seed 0 --save-every-iterations 10 --out $mlp
run train-cnn train --quiet --model cnn --width 0.5 --dataset digits.csv.gz --epochs 1 --batch-size 128 \
  --optimizer sgd --lr 0.1 --momentum 0.9 --nesterov --weight-decay 5e-4 --schedule warmup:0.1,cosine \
  --save-every 1 --train-subset 512 --test-subset 256 --seed 1 --model-seed 2 --out files/run-cnn
run train-swa train --quiet --model mlp --hidden 8,8 --activation tanh --dataset digits.csv.gz --epochs 2 \
  --batch-size 128 --optimizer adamw --lr 0.01 --schedule multistep:1:0.1 --swa-start 1 --out files/run-swa
run evaluate evaluate $final
run info info $final
run info-cnn info files/run-cnn/final.safetensors
run models models

# Surfaces (README: Loss surfaces), small grids.
readme_surface="--xnorm filter --ynorm filter --xignore biasbn --yignore biasbn --dir-type weights --data train,test"
run surface-cnn surface --quiet --checkpoint files/run-cnn/final.safetensors --x=-1:1:5 --y=-1:1:5 $readme_surface \
  --subset 100 --out files/cnn.h5
run surface-cnn-states surface --quiet --checkpoint files/run-cnn/final.safetensors --x=-1:1:3 --y=-1:1:3 \
  --dir-type states --orthogonalize --data test --subset 100 --out files/cnn-states.h5
run surface-mlp surface --quiet --checkpoint $final --x=-1:1:5 --y=-1:1:5 $readme_surface --out files/mlp.h5
run surface-1d surface --quiet --checkpoint $final --x=-1:1:11 --xnorm filter --xignore biasbn --data train,test \
  --out files/mlp-1d.h5
run surface-adaptive surface --quiet --checkpoint $final --x=-1:1:17 --y=-1:1:17 --data train,test --adaptive \
  --out files/mlp-adaptive.h5
run interpolate interpolate --quiet $mlp/checkpoints/epoch-0000.safetensors $final --steps 11 --range=-0.5:1.5 \
  --out files/interpolation.h5
run plane plane --quiet $mlp/checkpoints/epoch-0000.safetensors $mlp/checkpoints/epoch-0001.safetensors $final \
  --x=-0.5:1.5:5 --y=-0.5:1.5:5 --out files/plane.h5
run trajectory trajectory --quiet --run $mlp --steps 5 --out files/trajectory.h5

# Between minima (README: Permutation alignment, Mode connectivity) and ensembles of directions.
run train-mlp-2 train --quiet --model mlp --hidden 16 --dataset digits.csv.gz --epochs 2 --batch-size 64 \
  --lr 0.05 --seed 1 --model-seed 1 --out files/run-mlp-2
run align align $final files/run-mlp-2/final.safetensors --out files/mlp-2-aligned.safetensors
run interpolate-aligned interpolate --quiet $final files/mlp-2-aligned.safetensors --steps 11 --data train,test \
  --out files/interpolation-aligned.h5
run connect connect --quiet $final files/run-mlp-2/final.safetensors --epochs 2 --points 11 --plane-grid 5 \
  --data train,test --out files/connect
run surface-repeats surface --quiet --checkpoint $final --x=-1:1:5 --y=-1:1:5 --repeats 3 --out files/mlp-repeats.h5
run surface-subset-repeats surface --quiet --checkpoint $final --x=-1:1:9 --xnorm filter --subset 300 \
  --subset-repeats 3 --out files/mlp-subsets.h5
run export export files/mlp.h5 files/mlp.npz files/mlp.csv
run export-vtk export files/mlp.h5 files/mlp.vtp files/mlp.vts --quantity train_loss --log --zmax 10
run export-1d export files/mlp-1d.h5 files/mlp-1d.npz files/mlp-1d.csv

# Curvature (README: Curvature, the convexity map, Sharpness).
run hessian hessian --quiet --checkpoint $final --top 3 --bottom 1 --trace --density --subset 200 \
  --out files/hessian.h5 --eigenvectors files/eig.h5
run hessian-matrices hessian --quiet --checkpoint $final --parameters matrices --top 2 --bottom 1 --subset 200 \
  --out files/hessian-matrices.h5
run surface-eig surface --quiet --checkpoint $final --directions files/eig.h5 --x=-1:1:5 --y=-1:1:5 --out files/eig-surface.h5
run hessian-map hessian-map --quiet --surface files/mlp.h5 --parameters all --iterations 10 --subset 200 --out files/convexity.h5
run sharpness sharpness --quiet $mlp/checkpoints/epoch-0001.safetensors $final --directions 3 --ascent-steps 5 \
  --eigenvalue --subset 200 --csv files/sharpness.csv

# Landscapes through training (README: evolve, animate).
run evolve evolve --quiet --run $mlp --x=-1:1:5 --y=-1:1:5 --max-frames 3 --data train,test --out files/evolve.h5
run evolve-pca evolve --quiet --run $mlp --mode fixed-pca --steps 5 --frames epochs --out files/evolve-pca.h5
run animate animate files/evolve-pca.h5 --view 3d --fps 2 --out files/evolve-pca.gif

# A language model (README: Transformer training, token sequences): a character-level gpt (1
# block, 2 heads, embedding 16, context 16) trained by the README's AdamW recipe on text this
# script writes, then evaluated on shorter windows, a surface with perplexity, its Hessian.
python3 - <<'EOF'
import random
random.seed(1)
words = 'the quick brown fox jumps over a lazy dog while cats sleep in the warm sun and birds sing'.split()
open('files/story.txt', 'w').write(' '.join(random.choice(words) for _ in range(600)))
EOF
gpt=files/run-gpt
run train-gpt train --quiet --model gpt --layers 1 --heads 2 --embed 16 --dataset files/story.txt --context 16 \
  --epochs 1 --batch-size 32 --optimizer adamw --lr 6e-4 --betas 0.9,0.95 --weight-decay 0.1 --decay-scope weights \
  --schedule warmup-cosine:4:6e-5 --clip-norm 1 --seed 0 --model-seed 0 --out $gpt
run evaluate-gpt-short evaluate $gpt/final.safetensors --context 8
run surface-gpt surface --quiet --checkpoint $gpt/final.safetensors --x=-1:1:3 --y=-1:1:3 --data train,test \
  --out files/gpt-surface.h5
run hessian-gpt hessian --quiet --checkpoint $gpt/final.safetensors --top 2 --subset 32 --out files/gpt-hessian.h5

# Topology (README: Topology of a surface), on a copy, so that the files above stay as they are.
cp files/mlp.h5 files/mlp-analyzed.h5
run analyze analyze files/mlp-analyzed.h5
run analyze-test analyze files/mlp-analyzed.h5 --quantity test_loss --rise 0.01,0.1 --levels 0.5,1
run analyze-repeats analyze files/mlp-repeats.h5

# Figures and the viewer: only the set of files is compared.
run plot plot files/mlp.h5
run plot-1d plot files/mlp-1d.h5
run plot-trajectory plot files/trajectory.h5
run plot-convexity plot files/convexity.h5
run plot-analyzed plot files/mlp-analyzed.h5 --kind contour
run view view files/mlp.h5 --out files/report.html
run plot-connect plot files/connect/curve.h5 files/connect/plane.h5
run plot-aligned plot files/interpolation.h5 files/interpolation-aligned.h5 --compare
run plot-run plot $mlp files/run-mlp-2 --compare
run view-runs view $mlp files/run-mlp-2 --out files/runs.html

# ONNX (README: Bring your own model) on the committed fixtures; a second model of the same
# graph by tests/onnx/perturb_onnx.py (no onnx package needed).
python3 "$tests_dir/onnx/perturb_onnx.py" "fixtures/mlp.onnx" mlp-1.onnx 1
run onnx-evaluate evaluate --onnx "fixtures/cnn.onnx" --data "fixtures/cnn.npz"
run onnx-info info "fixtures/cnn.onnx"
run onnx-surface surface --quiet --onnx "fixtures/mlp.onnx" --data "fixtures/mlp.npz" --x=-1:1:5 --y=-1:1:5 \
  --out files/onnx-surface.h5
run onnx-hessian hessian --quiet --onnx "fixtures/mlp.onnx" --data "fixtures/mlp.npz" --top 3 --density \
  --out files/onnx-hessian.h5
run onnx-interpolate interpolate --quiet "fixtures/mlp.onnx" mlp-1.onnx --data "fixtures/mlp.npz" --steps 5 \
  --out files/onnx-interpolation.h5

# The comparison's whole report is shown: on a mismatch, each file with the path inside it and
# the expected and obtained values; always, the closing line with the largest difference found.
if python3 "$tests_dir/golden/compare.py" files "$tests_dir/golden/expected" --scratch "$work" $update > compare.txt 2>&1
then pass "every file and printed line matches tests/golden/expected"
else fail "every file and printed line matches tests/golden/expected"; fi
sed 's/^/  /' compare.txt
# TERRAIN_GOLDEN_KEEP=DIR keeps this run's files there (to compare by hand or bisect).
if [ -n "${TERRAIN_GOLDEN_KEEP:-}" ]; then rm -rf "$TERRAIN_GOLDEN_KEEP"; cp -r "$work" "$TERRAIN_GOLDEN_KEEP"; fi
finish "golden"
