#!/usr/bin/env bash
# Hostile and mistaken user input to the `terrain` program: every case must end in a clear
# message and exit status 1..125 (never a trap or a signal), or, where the input is valid but
# extreme, in a correct result. Everything it needs it makes (synthetic sets, small CSV, IDX
# and safetensors files written here). Sourced by tests/cli.sh; runs alone as
#   bash tests/cli-input.sh path/to/terrain
if [ -z "${terrain:-}" ]; then
  set -uo pipefail
  terrain=$(realpath "$1")
  source "$(dirname "$0")/lib.sh"
  standalone=1
fi

echo "terrain CLI: hostile input"
in="$work/input"
mkdir -p "$in"
t() { "$terrain" "$@"; }

# Small runs to pair with data: blobs (2 features, 3 classes), spirals (2 features, 2 classes),
# a 3-feature CSV (2 classes), and a run with iteration checkpoints for evolve/trajectory.
python3 - "$in" <<'EOF'
import random, sys
folder = sys.argv[1]
random.seed(1)
rows = []
for i in range(60):
    a, b, c = random.random(), random.random(), random.random()
    rows.append('%f,%f,%f,%d' % (a, b, c, int(a + b > 1)))
open(folder + '/three.csv', 'w').write('\n'.join(rows) + '\n')
# Labels 0..2 with one bad value in row 8, for each kind of bad label.
for name, bad in [('negative', '-1'), ('huge', '1e9'), ('fraction', '9999.5')]:
    rows = ['%f,%f,%d' % (random.random(), random.random(), i % 3) for i in range(40)]
    rows[7] = rows[7].rsplit(',', 1)[0] + ',' + bad
    open('%s/%s.csv' % (folder, name), 'w').write('\n'.join(rows) + '\n')
# Real-valued targets: clearly a regression.
rows = ['%f,%f,%f' % (random.random(), random.random(), 5 * random.random()) for i in range(40)]
open(folder + '/real.csv', 'w').write('\n'.join(rows) + '\n')
EOF
t train --quiet --model mlp --hidden 8 --dataset blobs --epochs 2 --save-every-iterations 5 --out "$in/blobs" >/dev/null
t train --quiet --model mlp --hidden 8 --dataset spirals --epochs 1 --out "$in/spirals" >/dev/null
t train --quiet --model mlp --hidden 8 --dataset "$in/three.csv" --epochs 1 --out "$in/three" >/dev/null
blobs="$in/blobs/final.safetensors"; three="$in/three/final.safetensors"
check "the hostile-input runs were trained" test -s "$blobs" -a -s "$three" -a -s "$in/spirals/final.safetensors"

# 1. A model paired with data of another shape, or with more classes than outputs: one check
#    before any work, with both shapes, for every command that pairs them.
shape="does not fit the data.*shaped \[3\].*shaped \[2\]"
rejects "evaluate: data of another shape" "$shape" t evaluate "$three" --dataset blobs
rejects "evaluate: more classes than outputs" "2 outputs, the data 3 classes" t evaluate "$in/spirals/final.safetensors" --dataset blobs
rejects "surface: data of another shape" "$shape" t surface --checkpoint "$three" --dataset blobs --x=-1:1:3 --out "$in/s.h5"
rejects "hessian: data of another shape" "$shape" t hessian --checkpoint "$three" --dataset blobs
rejects "sharpness: data of another shape" "$shape" t sharpness "$three" --dataset blobs
rejects "interpolate: data of another shape" "$shape" t interpolate "$three" "$three" --dataset blobs --out "$in/i.h5"
rejects "plane: data of another shape" "$shape" t plane "$three" "$three" "$three" --dataset blobs --out "$in/p.h5"
rejects "--model state_dict on data of another shape" "shape \[8, 3\].*expects \[8, 2\]" \
  t evaluate "$three" --model mlp,hidden=8 --dataset blobs
onnx="$(dirname "$0")/../Tests/TerrainONNXTests/Fixtures/mlp.onnx"
if [ -s "$onnx" ]; then
  rejects "ONNX model on data of another shape" "takes samples of shape \[20\].*shape \[2\]" t evaluate --onnx "$onnx" --dataset blobs
fi
check "no output was written for refused requests" bash -c "! ls '$in'/s.h5 '$in'/i.h5 '$in'/p.h5 2>/dev/null"

# 2. Model sizes from options, --model JSON and checkpoint metadata: bounded, overflow-checked.
rejects "--width 1e300" "width multiplier.*1e\+300" t train --model mlp --width 1e300 --dataset blobs --out "$in/x"
rejects "--width 1e9" "width multiplier" t train --model cnn --width 1e9 --dataset blobs --out "$in/x"
rejects "--width nan" "width" t train --model mlp --width nan --dataset blobs --out "$in/x"
rejects "--width -1" "width" t train --model mlp --width=-1 --dataset blobs --out "$in/x"
rejects "--hidden 2^62" "4611686018427387904 units.*limit" t train --model mlp --hidden 4611686018427387904 --dataset blobs --out "$in/x"
rejects "a terabyte hidden layer" "shaped \[100000, 100000\].*limit of 268435456" \
  t train --model mlp --hidden 100000,100000 --dataset blobs --out "$in/x"
rejects "absurd depth" "depth 99999999998.*1202" t train --model resnet99999999998 --dataset blobs --out "$in/x"
rejects "--model JSON with outputs = Int.max" "outputs, got 9223372036854775807" \
  t evaluate "$three" --dataset "$in/three.csv" --model '{"architecture":"mlp","outputs":9223372036854775807,"inputShape":[3],"width":1,"seed":0}'
rejects "--model JSON with hiddenSizes [2^62]" "4611686018427387904 units" \
  t evaluate "$three" --dataset "$in/three.csv" --model '{"architecture":"mlp","outputs":2,"hiddenSizes":[4611686018427387904],"inputShape":[3],"width":1,"seed":0}'
rejects "--model width=1e300" "width multiplier" t evaluate "$three" --dataset "$in/three.csv" --model mlp,width=1e300
# Checkpoint metadata rewritten with each hostile spec: info and evaluate refuse it.
spec_check() {
  local name=$1 spec=$2 pattern=$3
  python3 - "$three" "$in/$name.safetensors" "$spec" <<'EOF'
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
header['__metadata__']['terrain.model'] = sys.argv[3]
text = json.dumps(header).encode()
text += b' ' * (-len(text) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(text)) + text + raw[8 + n:])
EOF
  rejects "checkpoint metadata: $name (info)" "$pattern" t info "$in/$name.safetensors"
  rejects "checkpoint metadata: $name (evaluate)" "$pattern" t evaluate "$in/$name.safetensors" --dataset "$in/three.csv"
}
spec_check outputs-max '{"architecture":"mlp","outputs":9223372036854775807,"inputShape":[3],"width":1,"seed":0}' "outputs"
spec_check hidden-huge '{"architecture":"mlp","outputs":2,"hiddenSizes":[4611686018427387904],"inputShape":[3],"width":1,"seed":0}' "units.*limit"
spec_check input-huge '{"architecture":"mlp","outputs":2,"inputShape":[4611686018427387904,4611686018427387904],"width":1,"seed":0}' "input shape|does not fit"
spec_check width-huge '{"architecture":"cnn","outputs":2,"inputShape":[1,8,8],"width":1e300,"seed":0}' "width multiplier"
spec_check negative '{"architecture":"mlp","outputs":2,"hiddenSizes":[-5],"inputShape":[3],"width":1,"seed":0}' "positive"
spec_check zero-input '{"architecture":"mlp","outputs":2,"inputShape":[0],"width":1,"seed":0}' "positive sizes"

# 3. Grids: each axis is bounded and so is their product, before any file is written.
rejects "surface: 100000 x 100000 points" "10000000000 points; the limit is 16777216" \
  t surface --checkpoint "$blobs" --x=-1:1:100000 --y=-1:1:100000 --out "$in/grid.h5"
rejects "surface: 5000 x 5000 points" "limit" t surface --checkpoint "$blobs" --x=-1:1:5000 --y=-1:1:5000 --out "$in/grid.h5"
rejects "plane: a grid too large" "limit" t plane "$blobs" "$in/blobs/checkpoints/epoch-0000.safetensors" "$in/blobs/checkpoints/epoch-0001.safetensors" \
  --x=0:1:20000 --y=0:1:20000 --out "$in/grid.h5"
rejects "a range whose width overflows" "finite" t surface --checkpoint "$blobs" --x=-1e308:1e308:3 --out "$in/grid.h5"
rejects "interpolate: too many steps" "at most 100000 points" t interpolate "$blobs" "$in/blobs/checkpoints/epoch-0000.safetensors" --steps 100000000 --out "$in/grid.h5"
rejects "trajectory: too many steps" "steps must be between 2 and 100000" t trajectory --run "$in/blobs" --steps 99999999999 --out "$in/grid.h5"
rejects "trajectory: a grid too large" "limit" t trajectory --run "$in/blobs" --steps 5000 --out "$in/grid.h5"
rejects "evolve: a stack too large" "limit" t evolve --run "$in/blobs" --x=-1:1:3000 --y=-1:1:3000 --out "$in/grid.h5"
check "no file was written for a refused grid" bash -c "! ls '$in'/grid* 2>/dev/null"

# 4. Every numeric option is checked before work.
rejects "train --momentum nan" "momentum.*nan" t train --momentum nan --dataset blobs --out "$in/x"
rejects "train --sam nan" "sam.*nan" t train --sam nan --dataset blobs --out "$in/x"
rejects "train --lr inf" "lr must be" t train --lr inf --dataset blobs --out "$in/x"
rejects "train --weight-decay nan" "weight-decay" t train --weight-decay nan --dataset blobs --out "$in/x"
rejects "train --nesterov without momentum" "nesterov" t train --nesterov --momentum 0 --dataset blobs --out "$in/x"
rejects "train --epochs 0" "epochs" t train --epochs 0 --dataset blobs --out "$in/x"
rejects "train --batch-size 0" "batch-size" t train --batch-size 0 --dataset blobs --out "$in/x"
rejects "train --swa-start beyond the epochs" "swa-start" t train --swa-start 9 --epochs 2 --dataset blobs --out "$in/x"
rejects "train --threads 0" "threads" t train --threads 0 --dataset blobs --out "$in/x"
rejects "train --threads 10^9" "threads" t train --threads 1000000000 --dataset blobs --out "$in/x"
rejects "evaluate --batch-size 0" "batch-size" t evaluate "$blobs" --batch-size 0
rejects "surface --batch-size huge" "batch-size" t surface --checkpoint "$blobs" --x=-1:1:3 --batch-size 9999999999 --out "$in/x.h5"
rejects "hessian --top Int.max" "top must be between" t hessian --checkpoint "$blobs" --top 9223372036854775807 --bottom 1
rejects "hessian-map --tolerance nan" "tolerance" t hessian-map --surface "$in/x.h5" --tolerance nan
rejects "sharpness --epsilon inf" "epsilon" t sharpness "$blobs" --epsilon inf
rejects "plot --azimuth nan" "azimuth" t plot "$in/x.h5" --azimuth nan
rejects "animate --loop 70000" "loop" t animate "$in/x.h5" --loop 70000
check "no run folder was made for refused options" test ! -e "$in/x"

# 5. Degenerate requests are refused, not "computed".
rejects "evolve --mode fixed-pca --margin nan" "margin.*nan" t evolve --run "$in/blobs" --mode fixed-pca --margin nan --out "$in/e.h5"
rejects "trajectory --margin inf" "margin" t trajectory --run "$in/blobs" --margin inf --out "$in/t.h5"
rejects "plane A A A (a constant plane)" "B − A.*zero" t plane "$blobs" "$blobs" "$blobs" --out "$in/p.h5"
rejects "plane A B B (a line, not a plane)" "parallel" t plane "$blobs" "$in/blobs/checkpoints/epoch-0000.safetensors" \
  "$in/blobs/checkpoints/epoch-0000.safetensors" --out "$in/p.h5"
rejects "plane A A B" "B − A.*zero" t plane "$blobs" "$blobs" "$in/blobs/checkpoints/epoch-0000.safetensors" --out "$in/p.h5"
rejects "interpolate A A" "zero" t interpolate "$blobs" "$blobs" --out "$in/i.h5"
rejects "surface along the same axis twice" "parallel" t surface --checkpoint "$blobs" --x-axis fc1.weight --y-axis fc1.weight \
  --x=-1:1:3 --y=-1:1:3 --out "$in/p.h5"
check "no output for degenerate requests" bash -c "! ls '$in'/p.h5 '$in'/i.h5 '$in'/e.h5 '$in'/t.h5 2>/dev/null"

# 6. Labels: decided explicitly, never a silent regression; no empty sets.
rejects "CSV label -1" "row 8 is -1.*class labels" t train --dataset "$in/negative.csv" --model mlp --epochs 1 --out "$in/x"
rejects "CSV label 1e9" "row 8 is 1e\+09" t train --dataset "$in/huge.csv" --model mlp --epochs 1 --out "$in/x"
rejects "CSV label 9999.5" "row 8 is 9999.5" t train --dataset "$in/fraction.csv" --model mlp --epochs 1 --out "$in/x"
check "--targets regression reads the same column as values" bash -c "
  '$terrain' train --dataset '$in/fraction.csv' --targets regression --model mlp --epochs 1 --out '$in/regression' | grep -q 'regression of 1 value'"
check "real-valued targets are a regression, said on the data line" bash -c "
  '$terrain' train --dataset '$in/real.csv' --model mlp --epochs 1 --out '$in/real' | grep -q 'regression of 1 value'"
check "whole-number labels are classes, said on the data line" bash -c "
  '$terrain' train --dataset '$in/three.csv' --model mlp --epochs 1 --out '$in/classes' | grep -q 'classification into 2 classes'"
python3 - "$in" <<'EOF'
import os, struct, random, sys
folder = sys.argv[1] + '/idx'
os.makedirs(folder, exist_ok=True)
random.seed(3)
def write(prefix, n, bad=None):
    labels = [i % 10 for i in range(n)]
    if bad is not None: labels[bad] = 255
    open('%s/%s-labels-idx1-ubyte' % (folder, prefix), 'wb').write(struct.pack('>II', 0x801, n) + bytes(labels))
    open('%s/%s-images-idx3-ubyte' % (folder, prefix), 'wb').write(
        struct.pack('>IIII', 0x803, n, 8, 8) + bytes(random.randrange(256) for _ in range(n * 64)))
write('train', 50, bad=17); write('t10k', 20)
import numpy as np
np.savez(sys.argv[1] + '/empty.npz', x_train=np.zeros((0, 2), np.float32), y_train=np.zeros((0,), np.int64),
         x_test=np.zeros((3, 2), np.float32), y_test=np.zeros((3,), np.int64))
np.savez(sys.argv[1] + '/sparse.npz', x=np.zeros((4, 2), np.float32), y=np.array([0, 1, 0, 500]))
EOF
rejects "IDX label 255 among digits" "label 255 of sample 17 makes 256 classes" t train --dataset "$in/idx" --model mlp --epochs 1 --out "$in/x"
rejects "NPZ label 500 among 0 and 1" "label 500 .* makes 501 classes" t train --dataset "$in/sparse.npz" --model mlp --epochs 1 --out "$in/x"
rejects "a training set of no samples" "no training samples" t train --dataset "$in/empty.npz" --model mlp --epochs 1 --out "$in/x"
printf '1,2,0\n3,4,1\n' > "$in/two.csv"
rejects "a test split of no samples" "test set .* no samples" t train --dataset "$in/two.csv" --model mlp --epochs 1 --out "$in/x"
rejects "--test-subset 0" "test-subset" t train --test-subset 0 --dataset blobs --out "$in/x"
rejects "--train-subset 0" "train-subset" t train --train-subset 0 --dataset blobs --out "$in/x"
rejects "evaluate --subset 0" "subset" t evaluate "$blobs" --subset 0
check "no run folder was made for refused data" test ! -e "$in/x"

# 7. An output naming a device node or a FIFO is refused; the device stays a device.
mkfifo "$in/fifo"
rejects "surface --out /dev/null" "character device, not a regular file" t surface --checkpoint "$blobs" --x=-1:1:3 --out /dev/null
rejects "surface --out a FIFO" "FIFO" t surface --checkpoint "$blobs" --x=-1:1:3 --out "$in/fifo"
rejects "train --out /dev/null" "not a folder" t train --dataset blobs --epochs 1 --out /dev/null
rejects "sharpness --csv /dev/null" "character device" t sharpness "$blobs" --csv /dev/null
rejects "view --out /dev/null" "character device" t view "$in/x.h5" --out /dev/null
rejects "export to a FIFO" "FIFO" t export "$in/x.h5" "$in/fifo"
rejects "plot --out a FIFO (a folder expected)" "not a folder" t plot "$in/x.h5" --out "$in/fifo"
mkdir -p "$in/figures" && mkfifo "$in/figures/small_1d.png"
check "a small curve to plot" t surface --quiet --checkpoint "$blobs" --x=-1:1:3 --out "$in/small.h5"
rejects "plot: a figure file that is a FIFO" "FIFO" t plot "$in/small.h5" --out "$in/figures"
check "the figure FIFO is still a FIFO" test -p "$in/figures/small_1d.png"
check "/dev/null is still a character device" test -c /dev/null
check "the FIFO is still a FIFO" test -p "$in/fifo"

# 8. An all-diverged surface: drawn with every cell invalid and a note; the accuracy calls the
#    points diverged; evaluate says the loss is not finite and fails.
check "a surface where every point diverges is computed" t surface --quiet --checkpoint "$blobs" \
  --x=1e38:3e38:5 --y=1e38:3e38:5 --data train,test --out "$in/diverged.h5"
check "plot draws the all-diverged surface" t plot "$in/diverged.h5" --out "$in/diverged-figures"
for f in train_loss_2dcontour train_loss_2dcontourf train_loss_2dheat train_acc_2dheat test_acc_2dheat; do
  check "all-diverged figure $f exists" test -s "$in/diverged-figures/diverged_$f.png"
done
# Outputs that overflow give a NaN loss (as in PyTorch: inf - inf in the softmax), stored as a
# computed NaN and drawn dark grey ("NaN"), or an infinite one, drawn pale red ("diverged"): either
# way the points were computed, never the light grey of "not computed".
check "the all-diverged maps mark computed points (NaN dark grey or diverged pale red), not grey (not computed)" python3 - "$in/diverged-figures" <<'EOF'
import sys, zlib, struct
def pixels(path):
    data = open(path, 'rb').read()
    pos, chunks, ihdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
        if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
        if kind == b'IDAT': chunks += body
    w, h, depth, colour = ihdr[:4]
    channels = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(chunks); stride = w * channels; rows = []; prev = bytearray(stride); p = 0
    for _ in range(h):
        f = raw[p]; line = bytearray(raw[p + 1:p + 1 + stride]); p += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0; b = prev[i]; c = prev[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return w, h, channels, rows
for name in ['diverged_train_loss_2dheat.png', 'diverged_train_acc_2dheat.png']:
    w, h, ch, rows = pixels(sys.argv[1] + '/' + name)
    # A point a quarter into the plot area, away from the note in the middle.
    x, y = w // 4, h // 4
    r, g, b = rows[y][x * ch:x * ch + 3]
    assert (r, g, b) != (0xd9, 0xd9, 0xd9), (name, 'drawn as not computed')
    if 'loss' in name:
        assert (r, g, b) in [(0x8c, 0x8c, 0x8c), (0xf6, 0xc9, 0xc4)], (name, (r, g, b))
EOF
check "a 1D all-diverged curve is drawn" bash -c "
  '$terrain' surface --quiet --checkpoint '$blobs' --x=1e38:3e38:5 --out '$in/diverged1.h5' >/dev/null &&
  '$terrain' plot '$in/diverged1.h5' --out '$in/diverged-figures' >/dev/null && test -s '$in/diverged-figures/diverged1_1d.png'"
python3 - "$blobs" "$in/overflowing.safetensors" <<'EOF'
import json, struct, sys, numpy as np
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n]); data = bytearray(raw[8 + n:])
for name, e in header.items():
    if name == '__metadata__' or e['dtype'] != 'F32': continue
    a, b = e['data_offsets']
    data[a:b] = (np.frombuffer(bytes(data[a:b]), dtype='<f4') * np.float32(1e30)).astype('<f4').tobytes()
open(sys.argv[2], 'wb').write(raw[:8 + n] + bytes(data))
EOF
rejects "evaluate: a loss that is not finite fails with a message" "loss on the train and test sets is not finite" \
  t evaluate "$in/overflowing.safetensors"
check "evaluate prints no -nan" bash -c "! '$terrain' evaluate '$in/overflowing.safetensors' 2>&1 | grep -q -- '-nan'"

if [ -n "${standalone:-}" ]; then finish cli-input; fi
