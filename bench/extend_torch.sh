#!/usr/bin/env bash
# Benchmark: extend PyTorch state dicts to RGBY, side by side with cp of the same file:
#   timm resnet50 (onnx-apps/timm_resnet50.safetensors, 102 MB, weights filled with random values), and
#   a generated 2.1 GB state dict (a stem convolution and eight 256 MiB tensors of random values), as
#   .safetensors and as a torch.save .pth.
# Prints medians of RUNS runs and peak RSS (/usr/bin/time). Needs: xz, /usr/bin/python3 with torch
# (Debian python3-torch), a built jar.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/rechannel-bench-torch}
runs=${RUNS:-5}
mkdir -p "$work"
resnet="$work/timm_resnet50.safetensors"
big="$work/big.safetensors"
pth="$work/big.pth"
if [ ! -f "$work/made" ]; then
  xz -dc "$here/../shared/fixtures/onnx-apps/timm_resnet50.safetensors.xz" > "$resnet"
  /usr/bin/python3 - "$resnet" "$big" "$pth" <<'PY'
import collections, json, struct, sys
import torch

def fill(path):
    # random values over every float32 tensor, written in place (the fixture is zero-filled)
    with open(path, "r+b") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        g = torch.Generator().manual_seed(0)
        for name, info in header.items():
            if name == "__metadata__" or info["dtype"] != "F32":
                continue
            begin, end = info["data_offsets"]
            f.seek(8 + n + begin)
            f.write((torch.randn((end - begin) // 4, generator=g) * 0.05).numpy().tobytes())

def write_safetensors(path, tensors):
    header, position = collections.OrderedDict(), 0
    for name, t in tensors.items():
        size = t.numel() * t.element_size()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [position, position + size]}
        position += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for t in tensors.values():
            f.write(t.numpy().tobytes())

fill(sys.argv[1])
g = torch.Generator().manual_seed(1)
sd = collections.OrderedDict()
sd["conv1.weight"] = torch.randn(64, 3, 7, 7, generator=g)
for i in range(8):
    sd["blocks.%d.weight" % i] = torch.randn(8192, 8192, generator=g)
write_safetensors(sys.argv[2], sd)
torch.save(sd, sys.argv[3])
PY
  touch "$work/made"
fi
"$here/bin/rechannel" --version > /dev/null   # first use builds the class-data-sharing archive
measure() {  # name, input, command...: prints "name seconds peak_kb" per run, page cache warm
  local name=$1 input=$2; shift 2
  cat "$input" > /dev/null
  for i in $(seq "$runs"); do
    rm -f "$work"/out.*
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null
    echo "$name $(cat "$work/t")"
  done
}
{
  measure cp.resnet50 "$resnet" cp "$resnet" "$work/out.safetensors"
  measure rechannel.resnet50 "$resnet" "$here/bin/rechannel" extend "$resnet" --to RGBY --init Y=B -o "$work/out.safetensors"
  measure cp.big.safetensors "$big" cp "$big" "$work/out.safetensors"
  measure rechannel.big.safetensors "$big" "$here/bin/rechannel" extend "$big" --to RGBY --init Y=B -o "$work/out.safetensors"
  measure cp.big.pth "$pth" cp "$pth" "$work/out.pth"
  measure rechannel.big.pth "$pth" "$here/bin/rechannel" extend "$pth" --to RGBY --init Y=B -o "$work/out.pth"
} > "$work/results.txt"
rm -f "$work"/out.*
python3 - "$work/results.txt" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, secs, kb = line.split()
    rows[name].append((float(secs), int(kb)))
print("%-26s %10s %14s" % ("job", "median s", "peak RSS MB"))
for name, vals in rows.items():
    print("%-26s %10.2f %14.0f" % (name, statistics.median(v[0] for v in vals), max(v[1] for v in vals) / 1024))
PY
