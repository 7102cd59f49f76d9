#!/usr/bin/env bash
# The findings of Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets", reproduced with
# Terrain alone, at settings scaled down to about half an hour on two cores (Fashion-MNIST from
# Debian's dataset-fashion-mnist instead of CIFAR-10, subsets of it, narrower and shorter-trained
# networks). Each finding is a few `terrain` commands, as a user would type them:
#
#   1. skip connections: ResNet-56 with and without shortcuts, 2D filter-normalized surfaces side
#      by side, with their topology (minima, roughness) from `terrain analyze`;
#   2. small- vs large-batch minima: the same CNN trained with batch 64 and 2048, their sharpness
#      numbers (ε-sharpness, loss increase at a radius, λmax) and 1D filter-normalized curves;
#   3. the optimizer's path: the share of a trajectory's variance in its top two PCA directions;
#   4. the convexity map: λmin/λmax of the Hessian at every point of a surface, beside the surface.
#
# Writes everything into OUT (default findings/): the runs, surface files, figures, and
# findings.md, the numbers in one table. FINDINGS_SCALE=quick runs the same steps at toy sizes
# (a minute or two) to check the script itself.
# Usage: scripts/findings.sh path/to/terrain [OUT]
set -euo pipefail
terrain=$(realpath "$1")
out=${2:-findings}
mkdir -p "$out"
cd "$out"

if [ "${FINDINGS_SCALE:-full}" = quick ]; then
  subset=600; epochs=2; grid=-1:1:5; line=-1:1:9; eval_subset=200; width=0.25; depth=20; map_grid=-1:1:3
  small_batch=64; large_batch=512; cnn_epochs=3
else
  subset=6000; epochs=8; grid=-1:1:15; line=-1:1:41; eval_subset=250; width=0.5; depth=56; map_grid=-1:1:9
  small_batch=64; large_batch=1024; cnn_epochs=40
fi
data=fashion-mnist
start=$(date +%s)
say() { printf '\n== %s (%d s)\n' "$*" $(( $(date +%s) - start )); }
# From `terrain analyze`'s lines: "1 minimum, 0 saddles" and the highest loss on the grid.
critical() { sed -n 's/^critical points (8-neighbourhood): \([0-9]* minim[a-z]*, [0-9]* saddles*\).*/\1/p'; }
highest() { sed -n 's/.*; values [^ ]* … \([^ ]*\)$/\1/p'; }

# 1. Skip connections ---------------------------------------------------------------------------
for arch in resnet$depth resnet$depth-noshort; do
  say "train $arch (width $width) on $subset Fashion-MNIST images, $epochs epochs"
  [ -s runs/$arch/final.safetensors ] || "$terrain" train --quiet --model $arch --width $width --dataset $data \
    --train-subset $subset --test-subset 2000 --epochs $epochs --batch-size 128 --lr 0.1 \
    --schedule multistep:$((epochs * 3 / 4)) --out runs/$arch
  say "surface of $arch: filter-normalized directions, $grid per axis"
  "$terrain" surface --quiet --checkpoint runs/$arch/final.safetensors --x $grid --y $grid \
    --xnorm filter --ynorm filter --xignore biasbn --yignore biasbn --subset $eval_subset --out $arch.h5
  "$terrain" analyze $arch.h5 > $arch.analysis.txt
done
"$terrain" plot resnet$depth.h5 resnet$depth-noshort.h5 --compare --kind contour,3d --out figures > /dev/null
"$terrain" plot resnet$depth.h5 resnet$depth-noshort.h5 --kind contour,3d --out figures > /dev/null

# 2. Small- vs large-batch minima -----------------------------------------------------------------
for batch in $small_batch $large_batch; do
  say "train the CNN with batch $batch"
  # The same number of epochs, as Keskar et al. and Li et al. (the large batch takes 16 times fewer
  # steps), no weight decay; enough epochs for both to reach the same test accuracy, so that their
  # minima are compared at the same depth.
  lr=$([ $batch = $small_batch ] && echo 0.05 || echo 0.2)
  [ -s runs/cnn-b$batch/final.safetensors ] || "$terrain" train --quiet --model cnn --dataset $data --train-subset $((subset * 2)) \
    --test-subset 2000 --epochs $cnn_epochs --batch-size $batch --lr $lr --weight-decay 0 --save-every 0 --out runs/cnn-b$batch
  "$terrain" surface --quiet --checkpoint runs/cnn-b$batch/final.safetensors --x $line --xnorm filter --xignore biasbn \
    --data train,test --subset $eval_subset --out cnn-b$batch.h5
done
say "sharpness of both minima"
"$terrain" sharpness runs/cnn-b$small_batch/final.safetensors runs/cnn-b$large_batch/final.safetensors \
  --eigenvalue --subset $eval_subset | grep -v "^normalization:" > sharpness.txt
cat sharpness.txt
"$terrain" plot cnn-b$small_batch.h5 cnn-b$large_batch.h5 --compare --kind 1d --out figures > /dev/null
say "the straight line between them (Keskar et al.'s plot)"
"$terrain" interpolate runs/cnn-b$small_batch/final.safetensors runs/cnn-b$large_batch/final.safetensors \
  --range -0.5:1.5 --steps 41 --data train,test --subset $eval_subset --out small-to-large.h5 --quiet
"$terrain" plot small-to-large.h5 --out figures > /dev/null

# 3. The optimizer's path -------------------------------------------------------------------------
say "trajectory of resnet$depth's training on its top two PCA directions"
"$terrain" trajectory --run runs/resnet$depth --steps 11 --subset $eval_subset \
  --out trajectory.h5 > trajectory.txt
cat trajectory.txt
"$terrain" plot trajectory.h5 --kind trajectory --out figures > /dev/null

# 4. The convexity map ----------------------------------------------------------------------------
say "convexity map of the small-batch CNN"
"$terrain" surface --quiet --checkpoint runs/cnn-b$small_batch/final.safetensors --x $map_grid --y $map_grid \
  --xnorm filter --ynorm filter --xignore biasbn --yignore biasbn --subset $eval_subset --out cnn-map.h5
"$terrain" hessian-map --quiet --surface cnn-map.h5 --checkpoint runs/cnn-b$small_batch/final.safetensors \
  --subset $eval_subset --max-iterations 30
"$terrain" plot cnn-map.h5 --out figures > /dev/null
"$terrain" export cnn-map.h5 cnn-map.csv
# Li et al. read |λmin/λmax| < 0.1 (blue in their maps) as "convex at this resolution".
convex=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "max_eig") a = i; if ($i == "min_eig") b = i } next }
  $a != "" && $a > 0 { n++; r = $b / $a; if (r < 0) r = -r; if (r < 0.1) c++ } END { printf "%d of %d", c, n }' cnn-map.csv)

# Numbers -----------------------------------------------------------------------------------------
say "findings.md"
{
  echo "# Li et al.'s findings, reproduced by Terrain (scale: ${FINDINGS_SCALE:-full})"
  echo
  echo "| finding | measured |"
  echo "|---|---|"
  for arch in resnet$depth resnet$depth-noshort; do
    echo "| $arch: critical points on the ${grid##*:}² grid; highest train loss | $(critical < $arch.analysis.txt); $(highest < $arch.analysis.txt) |"
  done
  echo "| top two PCA components' share of the path's variance | $(sed -n 's/^1st PC: \([0-9.]*\) %, 2nd PC: \([0-9.]*\) %.*/\1 % + \2 %/p' trajectory.txt) |"
  echo "| convexity map: points with \|λmin/λmax\| < 0.1 | $convex |"
  echo
  echo '```'
  cat sharpness.txt
  echo '```'
  echo
  echo "Wall time: $(( $(date +%s) - start )) s."
} > findings.md
cat findings.md
