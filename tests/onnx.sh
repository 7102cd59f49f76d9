#!/usr/bin/env bash
# ONNX models and PyTorch weights through the `terrain` program, against PyTorch's numbers.
#
# Always: the committed fixtures (Tests/TerrainONNXTests/Fixtures, small PyTorch models exported
# by tests/onnx/make_fixtures.py) give PyTorch's loss in `terrain evaluate`, and surface, hessian
# and hessian-map run on an imported model; damaged files and mismatched data are refused.
# With a PyTorch python (TERRAIN_TORCH_PYTHON, else .venv-torch/bin/python, the venv `make test`
# creates; under make test these checks must run): the fixtures are exported afresh and compared
# again (this needs the onnx package beside torch), small twins of today's CNN families
# (tests/onnx/cnn_twins.py) give PyTorch's loss, and zoo checkpoints cross over both ways: Terrain's load into the
# twin PyTorch modules with load_state_dict(strict=True), PyTorch's state_dicts saved as
# safetensors load into `terrain evaluate --model`, with the same test loss.
# Usage: tests/onnx.sh path/to/terrain
set -uo pipefail
terrain=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$here/lib.sh"
fixtures="$root/Tests/TerrainONNXTests/Fixtures"

# close A B [TOLERANCE]: |A − B| ≤ TOLERANCE·|B| (relative, default 1e-5).
close() { python3 -c "import sys; a, b, t = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); sys.exit(0 if abs(a - b) <= t * abs(b) else 1)" "$1" "$2" "${3:-1e-5}"; }
reference() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
# evaluated_loss OUTPUT_OF_EVALUATE SET: the loss printed for that set.
evaluated_loss() { sed -n "s/^$2: loss \([0-9.eE+-]*\).*/\1/p" "$1"; }

# compare_onnx FOLDER NAME: terrain evaluate's loss against the reference's.
compare_onnx() {
  "$terrain" evaluate --onnx "$1/$2.onnx" --data "$1/$2.npz" > "$work/eval.txt" 2>&1 || { cat "$work/eval.txt"; return 1; }
  local got want
  got=$(evaluated_loss "$work/eval.txt" train); want=$(reference "$1/$2.reference.json" loss_center)
  echo "terrain $got, pytorch $want"
  close "$got" "$want"
}

echo "ONNX and PyTorch weights checks"
for name in mlp cnn resnet_block mixer; do
  check "evaluate --onnx $name.onnx gives PyTorch's loss (1e-5)" compare_onnx "$fixtures" "$name"
done

check "surface of an imported ResNet block" "$terrain" surface --onnx "$fixtures/resnet_block.onnx" --data "$fixtures/resnet_block.npz" \
  --x=-1:1:3 --y=-1:1:3 --quiet --out "$work/block.h5"
check "the surface's centre is the evaluated loss" bash -c "
  '$terrain' export '$work/block.h5' '$work/block.csv' >/dev/null &&
  centre=\$(awk -F, 'NR > 1 && \$1 + 0 == 0 && \$2 + 0 == 0 { print \$3 }' '$work/block.csv') &&
  python3 -c \"import sys; sys.exit(0 if abs(float('\$centre') - $(reference "$fixtures/resnet_block.reference.json" loss_center)) < 1e-5 else 1)\""
check "hessian of an imported CNN" bash -c "'$terrain' hessian --onnx '$fixtures/cnn.onnx' --data '$fixtures/cnn.npz' --top 2 --bottom 0 \
  --max-iterations 12 --quiet | grep -q 'λ1'"
check "hessian-map finds the ONNX model in the surface's attributes" "$terrain" hessian-map --surface "$work/block.h5" \
  --data "$fixtures/resnet_block.npz" --iterations 4 --quiet
check "info describes an ONNX model" bash -c "'$terrain' info '$fixtures/cnn.onnx' | grep -q 'bn1.running_var  *runningVariance'"
# Distinct models of one graph (a plane or a line through equal models is refused as degenerate).
for phase in 1 2; do
  python3 "$(dirname "$0")/onnx/perturb_onnx.py" "$fixtures/mixer.onnx" "$work/mixer-$phase.onnx" $phase
  python3 "$(dirname "$0")/onnx/perturb_onnx.py" "$fixtures/cnn.onnx" "$work/cnn-$phase.onnx" $phase
done
check "plane through .onnx models" "$terrain" plane "$fixtures/mixer.onnx" "$work/mixer-1.onnx" "$work/mixer-2.onnx" \
  --data "$fixtures/mixer.npz" --x=0:1:2 --y=0:1:2 --quiet --out "$work/plane.h5"
check "interpolate between two .onnx files" "$terrain" interpolate "$fixtures/cnn.onnx" "$work/cnn-1.onnx" --data "$fixtures/cnn.npz" \
  --steps 3 --quiet --out "$work/line.h5"
rejects "a plane through three equal .onnx models is refused" "zero" "$terrain" plane "$fixtures/mixer.onnx" "$fixtures/mixer.onnx" \
  "$fixtures/mixer.onnx" --data "$fixtures/mixer.npz" --x=0:1:2 --y=0:1:2 --quiet --out "$work/flat.h5"

head -c 1500 "$fixtures/cnn.onnx" > "$work/cut.onnx"
rejects "truncated ONNX file" "cannot read ONNX model|malformed" "$terrain" evaluate --onnx "$work/cut.onnx" --data "$fixtures/cnn.npz"
rejects "ONNX model without data" "carries no data" "$terrain" evaluate --onnx "$fixtures/cnn.onnx"
rejects "data of another shape" "does not fit the data" "$terrain" evaluate --onnx "$fixtures/cnn.onnx" --data "$fixtures/mlp.npz"
rejects "checkpoint and ONNX model at once" "two models" "$terrain" surface --checkpoint x.safetensors --onnx "$fixtures/cnn.onnx"

python=""
for candidate in "${TERRAIN_TORCH_PYTHON:-}" "$root/.venv-torch/bin/python"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c "import torch, numpy" 2>/dev/null; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
  skip "PyTorch comparisons: no python with torch (set TERRAIN_TORCH_PYTHON, or make venv for .venv-torch)"
else
  echo "  (PyTorch: $python, torch $("$python" -c 'import torch; print(torch.__version__)'))"
  if "$python" -c "import onnx" 2>/dev/null; then
    check "fixtures exported afresh by PyTorch" "$python" "$here/onnx/make_fixtures.py" "$work/fresh"
    for name in mlp cnn resnet_block mixer; do
      check "fresh $name.onnx gives PyTorch's loss (1e-5)" compare_onnx "$work/fresh" "$name"
    done
    # A next-token model (logits [batch, 16, 256]) on a text corpus read as bytes: PyTorch's
    # F.cross_entropy over every position, token accuracy and perplexity; surfaces store exp(loss).
    check "a next-token model and its text exported by PyTorch" "$python" "$here/onnx/token_model.py" "$work/tokens"
    tokens_evaluate() {
      "$terrain" evaluate --onnx "$work/tokens/tokens.onnx" --dataset "$work/tokens/story.txt" --context 16 --data train \
        > "$work/tokens-eval.txt" 2>&1 || { cat "$work/tokens-eval.txt"; return 1; }
      local got want accuracy ppl
      got=$(evaluated_loss "$work/tokens-eval.txt" train); want=$(reference "$work/tokens/tokens.reference.json" loss)
      accuracy=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$work/tokens-eval.txt")
      ppl=$(sed -n 's/.*perplexity \([0-9.]*\) .*/\1/p' "$work/tokens-eval.txt")
      echo "terrain $got acc $accuracy ppl $ppl; pytorch $want acc $(reference "$work/tokens/tokens.reference.json" accuracy)"
      close "$got" "$want" && close "$accuracy" "$(reference "$work/tokens/tokens.reference.json" accuracy)" 1e-3 &&
        close "$ppl" "$(reference "$work/tokens/tokens.reference.json" perplexity)" 1e-4
    }
    check "next-token loss, token accuracy and perplexity are PyTorch's" tokens_evaluate
    check "a surface of a next-token loss stores its perplexity, exp(loss)" bash -c "
      '$terrain' surface --quiet --onnx '$work/tokens/tokens.onnx' --dataset '$work/tokens/story.txt' --context 16 \
        --x=-1:1:5 --y=-1:1:5 --data train,test --out '$work/tokens/s.h5' >/dev/null &&
      python3 -c \"
import h5py, math, numpy as np
# math.exp is the C library's exp, as Terrain's; numpy's own vectorized exp may differ by an ulp.
with h5py.File('$work/tokens/s.h5', 'r') as f:
    for s in ('train', 'test'):
        loss = f[s + '_loss'][()]
        assert np.array_equal(f[s + '_perplexity'][()], np.vectorize(math.exp)(loss)), s
\""
    check "the Hessian of a next-token loss" "$terrain" hessian --quiet --onnx "$work/tokens/tokens.onnx" \
      --dataset "$work/tokens/story.txt" --context 16 --top 1 --out "$work/tokens/h.h5"
    rejects "sequences longer than the model's context are refused, named" \
      "sequences hold 32 tokens, longer than the model's context of 16 tokens" \
      "$terrain" evaluate --onnx "$work/tokens/tokens.onnx" --dataset "$work/tokens/story.txt" --context 32
    # Today's CNN families (small twins of torchvision's, tests/onnx/cnn_twins.py), fresh from
    # PyTorch: its loss through terrain evaluate, curvature through terrain hessian, and a model
    # with an operator Terrain lacks refused before any work, by the operator's name.
    twins="mobilenet_v3 efficientnet"   # ONNXTwinTests checks every twin, with Hessian-vector products
    check "CNN family twins exported by PyTorch" "$python" "$here/onnx/cnn_twins.py" "$work/twins" $twins instance_norm
    for name in $twins; do
      check "$name.onnx gives PyTorch's loss (1e-5)" compare_onnx "$work/twins" "$name"
    done
    check "hessian of an imported MobileNetV3" bash -c "'$terrain' hessian --onnx '$work/twins/mobilenet_v3.onnx' --data '$work/twins/mobilenet_v3.npz' \
      --top 1 --bottom 0 --max-iterations 6 --quiet | grep -q 'λ1'"
    rejects "a model with an operator Terrain lacks is refused, naming it" "InstanceNormalization" \
      "$terrain" evaluate --onnx "$work/twins/instance_norm.onnx" --data "$work/twins/instance_norm.npz"
  else
    skip "exporting fresh ONNX fixtures: torch.onnx.export needs the onnx package (pip install onnx)"
  fi

  weights="$here/onnx/torch_weights.py"
  check "data for the weights checks" "$python" "$weights" data "$work"
  # name, zoo spec (JSON, outputs and input shape filled from the data), data, terrain train options
  while IFS='|' read -r name spec data options; do
    [ -z "$name" ] && continue
    # Terrain → PyTorch: a trained checkpoint loads into the twin module (strict) with the same test loss.
    check "terrain-trained $name loads into PyTorch with the same test loss" bash -c "
      '$terrain' train --quiet --model $name $options --dataset '$work/$data.npz' --epochs 1 --batch-size 32 --no-normalize \
        --out '$work/run-$name' >/dev/null &&
      t=\$('$terrain' evaluate '$work/run-$name/final.safetensors' | sed -n 's/^test: loss \([0-9.]*\).*/\1/p') &&
      p=\$('$python' '$weights' load '$work/run-$name/final.safetensors' '$work/$data.npz') &&
      echo \"terrain \$t, pytorch \$p\" &&
      python3 -c \"import sys; sys.exit(0 if abs(\$t - \$p) <= 1e-5 * abs(\$p) + 1e-6 else 1)\""
    # PyTorch → Terrain: a state_dict saved as safetensors (no metadata) loads with --model.
    check "PyTorch's $name state_dict loads into terrain evaluate --model" bash -c "
      p=\$('$python' '$weights' export '$work' '$spec' '$work/$data.npz' torch-$name) &&
      t=\$('$terrain' evaluate '$work/torch-$name.safetensors' --model '$spec' --dataset '$work/$data.npz' | sed -n 's/^test: loss \([0-9.]*\).*/\1/p') &&
      echo \"terrain \$t, pytorch \$p\" &&
      python3 -c \"import sys; sys.exit(0 if abs(\$t - \$p) <= 1e-5 * abs(\$p) + 1e-6 else 1)\""
  done <<'MODELS'
mlp|{"architecture":"mlp","width":1,"hiddenSizes":[16,12],"inputShape":[10],"outputs":4,"seed":0}|vectors|--hidden 16,12
cnn|{"architecture":"cnn","width":0.5,"inputShape":[1,8,8],"outputs":4,"seed":0}|images|--width 0.5
resnet8|{"architecture":"resnet8","width":0.5,"inputShape":[1,8,8],"outputs":4,"seed":0}|images|--width 0.5
vgg9|{"architecture":"vgg9","width":0.125,"inputShape":[1,8,8],"outputs":4,"seed":0}|images|--width 0.125
densenet|{"architecture":"densenet","width":0.5,"inputShape":[1,8,8],"outputs":4,"seed":0}|images|--width 0.5
MODELS
  rejects "a state_dict without --model" "pass --model" "$terrain" evaluate "$work/torch-mlp.safetensors" --dataset "$work/vectors.npz"
fi

finish "onnx"
