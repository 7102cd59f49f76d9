#!/usr/bin/env bash
# `make accuracy`: the training results the README quotes, on 2 cores. Each line of the summary
# is the final test accuracy of one run; the run folders stay under runs/accuracy/.
set -euo pipefail
terrain=${1:-.build/release/terrain}
out=runs/accuracy
mkdir -p "$out"
mnist=${MNIST_DIR:-../shared/datasets/mnist}
common=(--optimizer sgd --momentum 0.9 --nesterov --weight-decay 5e-4 --batch-size 128 --quiet)

run() {  # name, then train options
  local name=$1; shift
  local start=$SECONDS
  "$terrain" train "$@" --out "$out/$name" > "$out/$name.log"
  local acc
  acc=$(python3 -c "import json;print('%.2f' % json.load(open('$out/$name/run.json'))['final_test']['accuracy'])")
  printf '%-34s test accuracy %6s%%   %4d s\n' "$name" "$acc" $((SECONDS - start)) | tee -a "$out/summary.txt"
}

: > "$out/summary.txt"
# ResNet-20 on Fashion-MNIST, one epoch, one-cycle-like cosine decay from 0.1.
run resnet20-fashion-1epoch --model resnet20 --dataset fashion-mnist --epochs 1 --lr 0.1 --schedule warmup:0.1,cosine "${common[@]}"
# MLP 784-512-512-10 on MNIST.
run mlp-mnist --model mlp --hidden 512,512 --dataset "$mnist" --epochs 5 --lr 0.05 --schedule cosine "${common[@]}"
# ResNet-56 with and without shortcuts, same budget: 1 epoch on 20,000 Fashion-MNIST images.
run resnet56-fashion-20k --model resnet56 --dataset fashion-mnist --train-subset 20000 --epochs 1 --lr 0.1 --schedule warmup:0.1,cosine "${common[@]}"
run resnet56-noshort-fashion-20k --model resnet56-noshort --dataset fashion-mnist --train-subset 20000 --epochs 1 --lr 0.1 --schedule warmup:0.1,cosine "${common[@]}"
