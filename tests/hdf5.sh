#!/usr/bin/env bash
# Damaged, hostile and interrupted HDF5 files against the `terrain` program (issue 16): every
# reader (plot, view, export, a resume, hessian-map) given a surface file with bytes flipped,
# zeroed or cut off fails cleanly or reads it, never crashes or hangs; resumes never keep a
# damaged value; a refused request touches no file; a full disk is an error, not a crash.
# Usage: tests/hdf5.sh path/to/terrain   (root for the full-disk check: it mounts a small tmpfs)
set -uo pipefail
terrain=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

echo "terrain HDF5 robustness checks"
cd "$work"
"$terrain" train --quiet --model mlp --hidden 8 --dataset spirals --epochs 1 --out run > /dev/null || { echo "cannot train"; exit 1; }
ckpt=run/final.safetensors
surface() { "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:5 --y=-1:1:4 "$@"; }
check "a small surface" surface --out clean.h5
cp clean.h5 whole.h5

# One byte changed at every offset (flipped, then zeroed), and the file cut at many lengths:
# each copy is given to export, plot and view, and resumed onto. Exit 0 or 1 only (no signal,
# no abort, no timeout), and a resume ends with the undamaged values.
python3 - "$terrain" clean.h5 <<'PY' > sweep.txt 2>&1
import subprocess, sys, os, collections
terrain, clean = sys.argv[1], sys.argv[2]
data = open(clean, "rb").read()
import h5py, numpy as np
with h5py.File(clean, "r") as f:
    reference = f["train_loss"][()], f["train_acc"][()]
variants = []
# (The Swift test StoredSurfaceIntegrityTests changes every third byte, in one process.)
for start, change in ((0, "flip"), (48, "zero")):
    for offset in range(start, len(data), 97):
        b = bytearray(data)
        b[offset] = b[offset] ^ 0xFF if change == "flip" else 0
        if b[offset] != data[offset]:
            variants.append((f"{change} byte {offset}", bytes(b)))
for length in range(0, len(data), 397):
    variants.append((f"cut at {length}", data[:length]))
outcomes, bad = collections.Counter(), []
def run(name, args, timeout=60):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        bad.append(f"{name}: {' '.join(args[1:3])} did not finish in {timeout} s"); return None
    # A clean refusal is exit 1..125 with an error message (as `rejects` in lib.sh); never a signal.
    if not 0 <= r.returncode <= 125 or (r.returncode != 0 and "error" not in r.stderr.lower()):
        bad.append(f"{name}: {' '.join(args[1:3])} exited {r.returncode}: {r.stderr.strip()[-300:]}")
    return r
for i, (name, content) in enumerate(variants):
    # Readers on every fourth variant (each run starts the program: keep the time bounded).
    if i % 4 == 0:
        open("d.h5", "wb").write(content)
        for args in ([terrain, "export", "d.h5", "d.csv"], [terrain, "plot", "d.h5", "--out", "dplots"],
                     [terrain, "view", "d.h5", "--out", "d.html"]):
            r = run(name, args)
            if r is not None: outcomes[f"{args[1]} exit {r.returncode}"] += 1
    # A resume onto every variant.
    open("d.h5", "wb").write(content)
    for leftover in ("d.h5.journal",):
        if os.path.exists(leftover): os.remove(leftover)
    r = run(name, [terrain, "surface", "--quiet", "--checkpoint", "run/final.safetensors", "--x=-1:1:5", "--y=-1:1:4",
                   "--out", "d.h5"])
    if r is None: continue
    outcomes[f"resume exit {r.returncode}"] += 1
    if r.returncode == 0:
        with h5py.File("d.h5", "r") as f:
            loss, acc = f["train_loss"][()], f["train_acc"][()]
        if not (np.array_equal(loss, reference[0]) and np.array_equal(acc, reference[1])):
            bad.append(f"{name}: the resume kept damaged values")
        if "failed their checksum" in r.stdout or "failed its checksum" in r.stdout:
            outcomes["resume repaired damaged points"] += 1
print(f"{len(variants)} damaged files:", dict(outcomes))
for line in bad[:20]: print("BAD", line)
sys.exit(1 if bad else 0)
PY
rc=$?
sed 's/^/        /' sweep.txt | head -25
if [ $rc -eq 0 ] && grep -q "resume repaired damaged points" sweep.txt; then pass "damaged surface files: clean errors or correct resumes, never a crash, a hang or a kept damaged value"
else fail "damaged surface files"; fi

# A surface whose checksum catches one changed value: the resume says so and recomputes it.
cp clean.h5 one.h5
python3 -c "
import h5py
with h5py.File('one.h5', 'r+') as f: f['train_loss'][1, 2] += 1e-9
"
check "a changed value is caught by its checksum and computed again" bash -c "
  '$terrain' surface --quiet --checkpoint '$ckpt' --x=-1:1:5 --y=-1:1:4 --out one.h5 | grep -q '1 stored point of one.h5 failed its checksum' &&
  python3 -c \"
import h5py, numpy as np
a, b = h5py.File('one.h5', 'r'), h5py.File('clean.h5', 'r')
assert np.array_equal(a['train_loss'][()], b['train_loss'][()])
\""

# A refused request changes neither the surface nor its direction file.
cp clean.h5 keep.h5; cp clean.directions.h5 keep.directions.h5
rejects "a different request is refused" "different request" surface --seed 7 --out keep.h5
check "... and left the surface and its direction file as they were" bash -c "cmp keep.h5 clean.h5 && cmp keep.directions.h5 clean.directions.h5"

# hessian-map finds the direction file beside a moved surface (dir_file, "clean.directions.h5",
# was written relative to the folder the run started in; run from another folder here), and
# refuses one rewritten for another request.
mkdir -p moved/sub && cp clean.h5 moved/sub/s.h5 && cp clean.directions.h5 moved/sub/clean.directions.h5
cp "$ckpt" moved/model.safetensors
check "hessian-map: the direction file is found beside a moved surface" bash -c "cd moved &&
  '$terrain' hessian-map --quiet --surface sub/s.h5 --checkpoint model.safetensors --iterations 3 --out sub/map.h5"
surface --seed 9 --out other.h5 > /dev/null
cp other.directions.h5 moved/sub/clean.directions.h5
rejects "hessian-map: a direction file of another request is refused" "does not hold the directions" bash -c "cd moved &&
  '$terrain' hessian-map --quiet --surface sub/s.h5 --checkpoint model.safetensors --iterations 3 --out sub/map2.h5"

# Hidden temporary files of killed writes are removed by the next run on that output (here it finds
# whole.h5 complete and writes nothing, and removes them all the same).
true & dead=$!; wait $dead
printf torn > ".whole.h5.$dead.partial"
surface --x=-1:1:5 --y=-1:1:4 --out whole.h5 > /dev/null
check "a killed write's temporary file is removed by the next run on that output" test ! -e ".whole.h5.$dead.partial"

# A full disk: the run says so and exits 1 (it crashed at exit before). A 48 KiB tmpfs: mounted
# directly as root (CI), else in a user namespace where the system allows one.
full_disk_run() {
  mkdir -p full && mount -t tmpfs -o size=48k tmpfs full || return 125
  "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:41 --y=-1:1:41 --out full/s.h5
  local rc=$?
  ls -A full | grep -q partial && { echo "a temporary file was left behind"; rc=126; }
  umount full
  return $rc
}
export -f full_disk_run; export terrain ckpt
if [ "$(id -u)" = 0 ]; then runner=(bash -c full_disk_run)
else runner=(unshare --user --map-root-user --mount bash -c full_disk_run); fi
rejects "a full disk is an error (no crash, no temporary file left)" "No space left on device" "${runner[@]}"

finish hdf5
