#!/usr/bin/env bash
# The viewer (`terrain view`) and the server (`terrain serve`) in a real browser: headless
# Chromium loads the pages, which report on themselves (<pre id="terrain-selfcheck">: WebGL
# present, pixels drawn per canvas and their hashes, frame and labels, console errors); the
# checks below read that report, the screenshots' pixels, and the server's answers to curl.
# Usage: tests/browser.sh path/to/terrain
set -uo pipefail
terrain=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

echo "terrain viewer and server in a browser"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  skip "no Chromium on this machine (Debian's chromium package; 'make deps' installs it)"
  finish "browser"; exit
fi
# Software WebGL (SwiftShader through ANGLE): no GPU is needed. A profile of our own, so that
# runs never share state or locks with a user's browser.
chrome() {
  timeout 90 "$browser" --headless --no-sandbox --use-angle=swiftshader --enable-unsafe-swiftshader \
    --no-first-run --no-default-browser-check --disable-extensions --mute-audio --hide-scrollbars \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --window-size=1400,1000 "$@"
}
# selfcheck URL [BUDGET_MS]: the page's self-check JSON, after BUDGET_MS of virtual time.
selfcheck() {
  chrome --virtual-time-budget="${2:-6000}" --dump-dom "$1" 2>"$work/chrome.err" \
    | python3 -c "
import sys, re, html
m = re.search(r'<pre id=\"terrain-selfcheck\"[^>]*>(.*?)</pre>', sys.stdin.read(), re.S)
print(html.unescape(m.group(1)) if m else '{}')"
}
# expect_page NAME JSON PYTHON: runs PYTHON with `c` = the self-check; passes when it returns.
expect_page() {
  local name=$1 json=$2 code=$3; shift 3
  check "$name" python3 -c "
import json, sys
c = json.loads(sys.argv[1])
if not c.get('ready'): sys.exit('the page did not report ready: %r' % c)
assert c['errors'] == [], c['errors']
$code" "$json" "$@"
}
# No 'Uncaught' error in what Chromium printed from the page's console.
console_clean() { ! grep -E "CONSOLE.*(Uncaught|Error)" "$work/chrome.err"; }

# Small real surfaces: a 2-layer MLP on the digits, a 13x13 surface around each epoch's
# checkpoint (the frames), a trajectory plane with its path, a 1D interpolation.
data=$work/runs
train() { "$terrain" train --quiet --model mlp --hidden 16 --dataset "$digits" \
  --epochs 2 --batch-size 64 --lr 0.05 --out "$data/digits" >/dev/null; }
check "train a small MLP" train
for e in 0 1 2; do
  check "surface around epoch $e" "$terrain" surface --quiet --checkpoint "$data/digits/checkpoints/epoch-000$e.safetensors" \
    --x=-1:1:13 --y=-1:1:13 --subset 200 --data train,test --out "$data/e$e.h5"
done
check "trajectory plane" "$terrain" trajectory --quiet --run "$data/digits" --steps 9 --subset 200 --out "$data/traj.h5"
check "1D interpolation" "$terrain" interpolate --quiet "$data/digits/checkpoints/epoch-0000.safetensors" \
  "$data/digits/final.safetensors" --steps 15 --subset 200 --out "$data/interp.h5"

pages=$work/pages
mkdir -p "$pages"
check "view: a stack of three surfaces as frames" "$terrain" view "$data/e0.h5" "$data/e1.h5" "$data/e2.h5" --frames \
  --labels "epoch 0|epoch 1|epoch 2" --out "$pages/frames.html"
check "view: two surfaces side by side" "$terrain" view "$data/e0.h5" "$data/e2.h5" --out "$pages/compare.html"
check "view: a trajectory" "$terrain" view "$data/traj.h5" --colormap magma --out "$pages/traj.html"
check "view: a 1D interpolation" "$terrain" view "$data/interp.h5" --out "$pages/interp.html"
rejects "view: a file that is no surface is named" "e0.directions.h5" "$terrain" view "$data/e0.directions.h5" --out "$pages/bad.html"
rejects "view: 1D and 2D frames do not mix" "all 1D or all 2D" "$terrain" view "$data/e0.h5" "$data/interp.h5" --frames --out "$pages/bad.html"
rejects "view: one label per frame" "labels" "$terrain" view "$data/e0.h5" "$data/e1.h5" --frames --labels "a" --out "$pages/bad.html"
check "the pages are self-contained: no address, no external script, style or image" \
  bash -c "! grep -lE 'https?://|<link|<img|<iframe| src=' '$pages'/*.html"

json=$(selfcheck "file://$pages/frames.html#selftest" 8000)
expect_page "frames: WebGL draws the surface (not blank), the map too, no console error" "$json" "
p = c['panels'][0]; s, m = p['surface3d'], p['contour']
assert c['webgl'] and s['drawn'] > 0.05 * s['pixels'] and s['colours'] > 100, s
assert m['drawn'] > 0.4 * m['pixels'] and m['colours'] > 100, m"
expect_page "frames: the slider changes the frame, its label and the pixels" "$json" "
t = c['selftest']; a, b = t['before'], t['afterSlider']
assert c['frameCount'] == 3 and a['frame'] == 0 and b['frame'] == 2, t
assert a['labels'] == ['epoch 0'] and b['labels'] == ['epoch 2'], t
assert a['hashes'][0].split('/')[0] != b['hashes'][0].split('/')[0], 'same 3D pixels'
assert a['hashes'][0].split('/')[1] != b['hashes'][0].split('/')[1], 'same map pixels'"
expect_page "frames: play steps on; colour map, z max and log z redraw" "$json" "
t = c['selftest']
assert t['afterPlay']['frame'] != t['afterSlider']['frame'], t
assert t['afterColorMap']['hashes'] != t['afterPlay']['hashes'], t
assert t['afterClip']['hashes'] != t['afterColorMap']['hashes'], t
assert t['afterLog']['hashes'] != t['afterClip']['hashes'] and c['logarithmic'] is False, t"
expect_page "frames: hovering the map reads out the point and its values" "$json" "
h = c['selftest']['hover']
assert h.startswith('α = ') and ', β = ' in h and 'train loss' in h and 'test accuracy' in h and '%' in h, h"
check "frames: Chromium's console shows no error" console_clean

json=$(selfcheck "file://$pages/compare.html#selftest")
expect_page "side by side: two panels, both drawn" "$json" "
assert [p['name'] for p in c['panels']] == ['e0', 'e2'], c['panels']
for p in c['panels']:
    assert p['surface3d']['drawn'] > 0.03 * p['surface3d']['pixels'] and p['contour']['colours'] > 20, p"
# terrain analyze's findings on the contour view: the same surface with and without them.
cp "$data/e2.h5" "$data/analysed.h5"
check "view: a surface analysed by terrain analyze" bash -c "
  '$terrain' analyze '$data/analysed.h5' > /dev/null && '$terrain' view '$data/analysed.h5' --out '$pages/analysed.html' > /dev/null &&
  '$terrain' view '$data/e2.h5' --out '$pages/plain.html' > /dev/null && grep -q '\"topology\":{\"train_loss\"' '$pages/analysed.html'"
plain=$(selfcheck "file://$pages/plain.html")
json=$(selfcheck "file://$pages/analysed.html")
expect_page "analysed: the map draws the minima, saddles, maxima and basin outline over the same surface, no error" "$json" "
plain = json.loads(sys.argv[2])['panels'][0]['contour']
m = c['panels'][0]['contour']
assert m['drawn'] > 0.4 * m['pixels'] and m['hash'] != plain['hash'], (m, plain)" "$plain"
check "analysed: Chromium's console shows no error" console_clean

json=$(selfcheck "file://$pages/traj.html#frame=0")
expect_page "trajectory: drawn with the magma map" "$json" "
assert c['colorMap'] == 'magma' and c['panels'][0]['surface3d']['colours'] > 100, c"
json=$(selfcheck "file://$pages/interp.html#selftest")
expect_page "1D: the curve is drawn, no 3D view, values on hover" "$json" "
p = c['panels'][0]; assert p['surface3d'] is None and p['curve']['drawn'] > 1000, p
assert c['selftest']['hover'].startswith('α = ') and 'train loss' in c['selftest']['hover'], c['selftest']"
# A curve between two models (terrain connect): the curve's values and the line's beside them,
# offered as quantities of their own.
connect_ends() { for seed in 1 2; do
  "$terrain" train --quiet --model mlp --hidden 16 --dataset "$digits" --epochs 2 --batch-size 64 --lr 0.05 \
    --seed $seed --model-seed $seed --out "$data/mode$seed" > /dev/null || return 1; done; }
check "connect: two small MLPs from different seeds" connect_ends
check "connect: a curve between them, and its page" bash -c "
  '$terrain' connect --quiet '$data/mode1/final.safetensors' '$data/mode2/final.safetensors' --epochs 2 --points 11 --plane-grid 0 \
    --out '$data/connect' > /dev/null &&
  '$terrain' view '$data/connect/curve.h5' --out '$pages/connect.html' > /dev/null"
json=$(selfcheck "file://$pages/connect.html#quantity=line_train_loss&selftest")
expect_page "connect: the line's loss is a quantity of the curve's page, read out on hover" "$json" "
p = c['panels'][0]; assert p['surface3d'] is None and p['curve']['drawn'] > 1000, p
h = c['selftest']['hover']; assert h.startswith('t (0: A, 1: B) = ') and 'train loss along the line' in h, h"
# A language model's surface (issue 18): a tiny character-level gpt on a few KB of text. Its
# surface file holds train_perplexity and test_perplexity (exp of each loss) beside the losses;
# the viewer offers them as quantities, draws them on a log colour scale by default, reads them
# out under the mouse, and beside a surface of other data gives each data set its own scale.
python3 -c "
import random, sys
random.seed(1)
words = 'the quick brown fox jumps over a lazy dog while cats sleep in the warm sun and birds sing'.split()
open(sys.argv[1], 'w').write(' '.join(random.choice(words) for _ in range(800)))" "$data/story.txt"
check "train a tiny gpt" "$terrain" train --quiet --model gpt --layers 1 --heads 2 --embed 16 --dataset "$data/story.txt" \
  --context 16 --epochs 2 --batch-size 32 --optimizer adamw --lr 0.01 --out "$data/gpt"
check "a surface of the gpt (loss, token accuracy, perplexity)" "$terrain" surface --quiet --checkpoint "$data/gpt/final.safetensors" \
  --x=-1:1:9 --y=-1:1:9 --data train,test --out "$data/gpt.h5"
check "view: the gpt's surface" "$terrain" view "$data/gpt.h5" --out "$pages/gpt.html"
check "view: the gpt beside the MLP" "$terrain" view "$data/e2.h5" "$data/gpt.h5" --out "$pages/mixed.html"
json=$(selfcheck "file://$pages/gpt.html#quantity=train_perplexity")
expect_page "gpt: perplexity is offered beside the losses, shown on a log colour scale, and drawn" "$json" "
assert [q[0] for q in c['quantities']] == ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'train_perplexity', 'test_perplexity'], c['quantities']
assert dict(c['quantities'])['test_perplexity'] == 'test perplexity', c['quantities']
assert c['quantity'] == 'train_perplexity' and c['logarithmic'] is True, c
bars = c['colorbars']; assert len(bars) == 1 and bars[0]['title'] == 'train perplexity · log scale', bars
lo, hi = bars[0]['range']; assert 1 <= lo < hi, bars
assert c['labels'][0].startswith('loss ') and ' · perplexity ' in c['labels'][0] and ' · token accuracy ' in c['labels'][0], c['labels']
p = c['panels'][0]; s, m = p['surface3d'], p['contour']
assert c['webgl'] and s['drawn'] > 0.05 * s['pixels'] and s['colours'] > 100, s
assert m['drawn'] > 0.4 * m['pixels'] and m['colours'] > 100, m"
json=$(selfcheck "file://$pages/gpt.html#quantity=test_perplexity&selftest")
expect_page "gpt: hovering reads out perplexity = exp(loss); colour map, z max and log z redraw it" "$json" "
import math, re
h = c['selftest']['hover']
ppl = float(re.search(r'test perplexity ([0-9.e+]+)', h).group(1)); loss = float(re.search(r'test loss ([0-9.e+]+)', h).group(1))
assert h.startswith('α = ') and abs(ppl / math.exp(loss) - 1) < 1e-3, h
t = c['selftest']
assert t['afterColorMap']['hashes'] != t['before']['hashes'] and t['afterClip']['hashes'] != t['afterColorMap']['hashes'], t
assert t['afterLog']['hashes'] != t['afterClip']['hashes'] and c['logarithmic'] is False, t"
check "gpt: Chromium's console shows no error" console_clean
json=$(selfcheck "file://$pages/mixed.html")
expect_page "gpt beside the MLP: each data set has its own colour scale, neither surface is flat" "$json" "
bars = c['colorbars']; assert len(bars) == 2 and bars[0]['range'] != bars[1]['range'], bars
assert [b['title'] for b in bars] == ['train loss · digits.csv.gz · log scale', 'train loss · story.txt · log scale'], bars
for p in c['panels']: assert p['contour']['colours'] > 100, p"
json=$(selfcheck "file://$pages/mixed.html#quantity=train_perplexity")
expect_page "gpt beside the MLP: perplexity, which only the gpt has, has one colour bar" "$json" "
assert [b['title'] for b in c['colorbars']] == ['train perplexity · story.txt · log scale'], c['colorbars']
assert c['panels'][1]['contour']['colours'] > 100, c['panels'][1]"
check "screenshot of the gpt's perplexity" chrome --virtual-time-budget=6000 --screenshot="$work/gpt.png" "file://$pages/gpt.html#quantity=train_perplexity"
check "the gpt screenshot's 3D area is not blank" python3 "$here/png_colours.py" "$work/gpt.png:60:330:700:760:200"

# Points not computed (NaN) and diverged (+inf) are holes in 3D, not a failure (h5py writes them).
if python3 -c "import h5py, numpy" 2>/dev/null; then
  check "a surface with holes" python3 -c "
import h5py, numpy as np, shutil
shutil.copy('$data/e2.h5', '$data/holes.h5')
with h5py.File('$data/holes.h5', 'r+') as f:
    for k in ['train_loss', 'test_loss']:
        z = f[k][:]; z[2:5, 3:7] = np.nan; z[9:, 10:] = np.inf; f[k][...] = z"
  "$terrain" view "$data/e2.h5" "$data/holes.h5" --out "$pages/holes.html" >/dev/null
  json=$(selfcheck "file://$pages/holes.html")
  expect_page "holes: drawn, with fewer 3D pixels than the same surface whole" "$json" "
whole, holes = (p['surface3d']['drawn'] for p in c['panels'])
assert 1000 < holes < whole, (holes, whole)"
else
  skip "holes (python3 h5py not installed)"
fi

# Screenshots: what a person sees. The 3D view's area must hold a real picture.
check "screenshot of the frames page" chrome --virtual-time-budget=6000 --screenshot="$work/frames.png" "file://$pages/frames.html#frame=1"
check "screenshot of the side-by-side page" chrome --virtual-time-budget=6000 --screenshot="$work/compare.png" "file://$pages/compare.html"
check "the screenshots' 3D areas are not blank" python3 "$here/png_colours.py" "$work/frames.png:60:330:700:760:200" "$work/compare.png:60:330:650:650:200"
if [ -n "${TERRAIN_SCREENSHOTS:-}" ]; then mkdir -p "$TERRAIN_SCREENSHOTS" && cp "$work"/*.png "$TERRAIN_SCREENSHOTS"/; fi

# The server: a run folder with surfaces, a figure, a report; links and files it must refuse.
"$terrain" plot "$data/e2.h5" --kind contour,heatmap --out "$data/figures" --index >/dev/null
echo "secret" > "$work/secret.txt"
ln -s "$work/secret.txt" "$data/secret-link.txt"
ln -s /etc "$data/etc-link"
"$terrain" serve "$data" --port 0 > "$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|^serving .* at http://127.0.0.1:\([0-9]*\)/$|\1|p' "$work/serve.log")
  [ -n "$port" ] && break
  sleep 0.1
done
check "serve: listens on 127.0.0.1 by default" test -n "$port"
url="http://127.0.0.1:$port"
rejects "serve: a port in use is a clear error" "cannot serve on 127.0.0.1:$port" timeout 20 "$terrain" serve "$data" --port "$port"
rejects "serve: a missing folder is a clear error" "no such folder" timeout 20 "$terrain" serve "$work/nothing-here"
status() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$url$1"; }
expect_status() { check "serve: $1 → $2" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --path-as-is '$url$1')\" = $2 ]"; }
check "serve: the listing names the run, surfaces, figures and the report" bash -c "
  page=\$(curl -sf '$url/') && echo \"\$page\" | grep -q 'mlp on digits.csv.gz, sgd, 2 epochs' &&
  echo \"\$page\" | grep -q 'href=\"/view/e2.h5\"' && echo \"\$page\" | grep -q 'src=\"/files/figures/e2_train_loss_2dcontour.png\"' &&
  echo \"\$page\" | grep -q 'href=\"/files/figures/index.html\"' && ! echo \"\$page\" | grep -q secret"
check "serve: a figure comes as image/png" bash -c "curl -sf -o /dev/null -D - '$url/files/figures/e2_train_loss_2dcontour.png' | grep -qi '^content-type: image/png'"
expect_status /view/e2.h5 200
check "serve: a run's curves come as SVG drawn from its logs, its page holds them" bash -c "
  curl -sf -o /dev/null -D - '$url/run-figure/loss.svg?r=digits' | grep -qi '^content-type: image/svg+xml' &&
  curl -sf '$url/run/digits' | grep -q 'data:image/svg+xml;base64,'"
expect_status "/run-figure/loss.svg?r=..%2Fsecret.txt" 403
expect_status /files/figures/index.html 200
expect_status /files/digits/metrics.csv 200
expect_status /files/../secret.txt 403
expect_status /files/%2e%2e/secret.txt 403
expect_status /view/..%2f..%2fsecret.txt 403
expect_status /files/secret-link.txt 403
expect_status /files/etc-link/passwd 403
expect_status /files/digits/checkpoints/epoch-0000.safetensors 404
expect_status /files/digits/final.safetensors 404
expect_status /files/nothing.png 404
expect_status /files/a%00.png 400
expect_status /files/%zz 400
expect_status /view/e0.directions.h5 422
expect_status "/compare?f=e0.h5&f=interp.h5&mode=frames" 422
check "serve: not reachable on another loopback address" bash -c "! curl -s -m 2 -o /dev/null 'http://127.0.0.2:$port/'"
# Garbage on the socket and a huge path: the server answers or closes, and lives on.
check "serve: survives bad requests" bash -c "
  exec 3<>/dev/tcp/127.0.0.1/$port && printf 'NOT HTTP AT ALL\r\n\r\n' >&3 && timeout 5 cat <&3 >/dev/null; exec 3<&-
  curl -s -o /dev/null '$url/files/'\$(head -c 100000 /dev/zero | tr '\\\\0' a)
  curl -s -o /dev/null -X POST --data x '$url/'
  kill -0 $server && [ \"\$(curl -s -o /dev/null -w '%{http_code}' '$url/')\" = 200 ]"
dom=$(chrome --virtual-time-budget=3000 --dump-dom "$url/" 2>"$work/chrome.err")
check "serve: Chromium loads the listing" bash -c "echo '$dom' | grep -q 'compare side by side'"
json=$(selfcheck "$url/view/traj.h5#selftest")
expect_page "serve: the viewer page from the server draws (under its content security policy)" "$json" "
assert c['webgl'] and c['panels'][0]['surface3d']['drawn'] > 1000, c"
json=$(selfcheck "$url/compare?f=e0.h5&f=e1.h5&f=e2.h5&mode=frames#selftest" 8000)
expect_page "serve: three surfaces as frames, the slider moves them" "$json" "
t = c['selftest']; assert c['frameCount'] == 3 and t['afterSlider']['frame'] == 2 and t['before']['hashes'] != t['afterSlider']['hashes'], t"
kill "$server"; wait "$server"; rc=$?
check "serve: stops cleanly on SIGTERM (exit $rc)" test $rc -eq 0
finish browser
