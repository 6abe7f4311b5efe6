#!/usr/bin/env bash
# Benchmark: extend the full VGG19 (Keras 574 MB as legacy .h5 and .keras; torchvision ONNX 513 MB) to RGBY, side by side with
#   (a) cp of the same file, the physical floor, and
#   (b) what a Python user would write: a minimal h5py script (Debian python3-h5py).
# Weights are first filled with random values so the file is dense. Prints medians of RUNS runs
# and peak RSS (/usr/bin/time -v). Needs: xz, /usr/bin/python3 with h5py and numpy, a built jar.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/rechannel-bench}
runs=${RUNS:-5}
mkdir -p "$work"
src="$work/VGG19.h5"
if [ ! -f "$src.filled" ]; then
  xz -dc "$here/../shared/fixtures/keras-apps/VGG19.h5.xz" > "$src"
  /usr/bin/python3 - "$src" <<'PY'
import h5py, numpy as np, sys
rng = np.random.default_rng(0)
with h5py.File(sys.argv[1], 'r+') as f:
    def fill(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.size > 0:
            rows = max(1, (1 << 22) // max(1, obj.size // obj.shape[0])) if obj.ndim else 1
            if obj.ndim == 0:
                obj[()] = rng.standard_normal()
            else:
                for s in range(0, obj.shape[0], rows):
                    part = obj[s:s + rows]
                    obj[s:s + rows] = rng.standard_normal(part.shape).astype(obj.dtype)
    f.visititems(fill)
PY
  touch "$src.filled"
fi
keras="$work/VGG19.keras"
if [ ! -f "$keras.filled" ]; then
  # the same random weights in a .keras archive, written as Keras writes it (zip, entries stored)
  xz -dc "$here/../shared/fixtures/keras-apps/VGG19.keras.xz" > "$work/zeros.keras"
  /usr/bin/python3 - "$work/zeros.keras" "$keras" <<'PY'
import h5py, io, numpy as np, sys, zipfile, shutil, tempfile, os
src, dst = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
tmp = tempfile.mkdtemp()
with zipfile.ZipFile(src) as z:
    z.extractall(tmp)
with h5py.File(os.path.join(tmp, 'model.weights.h5'), 'r+') as f:
    def fill(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.ndim > 0 and obj.size > 0:
            rows = max(1, (1 << 22) // max(1, obj.size // obj.shape[0]))
            for s in range(0, obj.shape[0], rows):
                part = obj[s:s + rows]
                obj[s:s + rows] = rng.standard_normal(part.shape).astype(obj.dtype)
    f.visititems(fill)
with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as out:
    for info in z.infolist():
        out.write(os.path.join(tmp, info.filename), info.filename)
shutil.rmtree(tmp)
PY
  rm -f "$work/zeros.keras"
  touch "$keras.filled"
fi
cat "$keras" > /dev/null
onnx="$work/vgg19.onnx"
if [ ! -f "$onnx.filled" ]; then
  # torchvision VGG19 exported to ONNX (513 MB), weights random (Debian python3-onnx)
  xz -dc "$here/../shared/fixtures/onnx-apps/tv_vgg19.onnx.xz" > "$work/zeros.onnx"
  /usr/bin/python3 - "$work/zeros.onnx" "$onnx" <<'PY'
import onnx, numpy as np, sys
from onnx import numpy_helper
rng = np.random.default_rng(0)
m = onnx.load(sys.argv[1])
for t in m.graph.initializer:
    if t.data_type == onnx.TensorProto.FLOAT:
        a = numpy_helper.to_array(t)
        t.CopyFrom(numpy_helper.from_array(rng.standard_normal(a.shape).astype(np.float32), t.name))
onnx.save(m, sys.argv[2])
PY
  rm -f "$work/zeros.onnx"
  touch "$onnx.filled"
fi
cat "$onnx" > /dev/null
cat > "$work/h5py_extend.py" <<'PY'
import h5py, json, shutil, sys, numpy as np
src, dst = sys.argv[1], sys.argv[2]
shutil.copyfile(src, dst)
with h5py.File(dst, 'r+') as f:
    path = 'model_weights/block1_conv1/block1_conv1/kernel'
    k = f[path][()]
    del f[path]
    f[path] = np.concatenate([k, k[:, :, -1:, :]], axis=2)
    cfg = json.loads(f.attrs['model_config'])
    cfg['config']['layers'][0]['config']['batch_shape'][-1] = 4
    for layer in cfg['config']['layers']:
        for node in layer.get('inbound_nodes', []):
            for t in node['args']:
                if t['config']['keras_history'][0] == cfg['config']['layers'][0]['name']:
                    t['config']['shape'][-1] = 4
    f.attrs['model_config'] = json.dumps(cfg)
PY
cat "$src" > /dev/null   # warm the page cache
"$here/bin/rechannel" --version > /dev/null   # first use builds the class-data-sharing archive
measure() {  # name, command...: prints "seconds peak_kb" per run
  local name=$1; shift
  for i in $(seq "$runs"); do
    rm -f "$work/out.h5" "$work/out.keras" "$work/out.onnx"
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null
    echo "$name $(cat "$work/t")"
  done
}
{
  measure cp cp "$src" "$work/out.h5"
  measure h5py /usr/bin/python3 "$work/h5py_extend.py" "$src" "$work/out.h5"
  measure rechannel "$here/bin/rechannel" extend "$src" --to RGBY --init Y=B -o "$work/out.h5"
  measure cp.keras cp "$keras" "$work/out.h5"
  measure rechannel.keras "$here/bin/rechannel" extend "$keras" --to RGBY --init Y=B -o "$work/out.keras"
  measure cp.onnx cp "$onnx" "$work/out.h5"
  measure rechannel.onnx "$here/bin/rechannel" extend "$onnx" --to RGBY --init Y=B -o "$work/out.onnx"
} > "$work/results.txt"
python3 - "$work/results.txt" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, secs, kb = line.split()
    rows[name].append((float(secs), int(kb)))
print("%-16s %10s %14s" % ("tool", "median s", "peak RSS MB"))
for name, vals in rows.items():
    print("%-16s %10.2f %14.0f" % (name, statistics.median(v[0] for v in vals), max(v[1] for v in vals) / 1024))
PY
