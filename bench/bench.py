#!/usr/bin/python3
"""rechannel benchmark: `extend --to RGBY --init Y=B` (Keras: `--from BGR` too) on real model files, beside two yardsticks,
and `verify` of the ONNX results (ONNX Runtime included).

Yardsticks: `cp` of the same file (the physical floor) and, for legacy Keras `.h5`, a minimal h5py
script doing the same edit (what a Python user would write). Method: the inputs are made dense first
(random weights: `xz -d` writes zero runs as holes and zeros copy unrealistically well), the page cache
is warmed, then ROUNDS interleaved rounds run every job once each; before each timed run the outputs
are removed and `sync` runs, outside the timing. Reported: median, min and max wall seconds, the median
against `cp` of the same model, median CPU seconds (user + system) and the largest peak RSS (GNU time)
per job, with the load average before and after (wall times mean little on a busy machine).

Models: the 590 KB example; VGG19 as Keras .h5 and .keras and as torchvision ONNX; timm's ResNet-50 as
safetensors; with --big, models over 2 GB: VGG19 with a 110,000-class head (.h5, .keras, written by real
Keras), the ONNX VGG19 widened (inline and with external data), and a 2.1 GB state dict written by PyTorch
(.pth) and as safetensors.

Usage: bench/bench.py [--rounds N] [--big] [--work DIR] [--only SUBSTRING ...]
Needs Debian python3-h5py, python3-onnx, numpy, and python3-torch for --big; ../shared/fixtures and
../shared/keras-ref (for --big); a built jar (mvn package).
"""
import argparse
import json
import lzma
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(HERE, '..', 'shared', 'fixtures')
RECHANNEL = os.path.join(HERE, 'bin', 'rechannel')


def unxz(name, target):
    if not os.path.exists(target):
        with lzma.open(os.path.join(FIXTURES, name)) as src, open(target + '.tmp', 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 24)
        os.rename(target + '.tmp', target)
    return target


def fill_h5(path, seed=0):
    """Random values in every non-empty dataset, written in place in slabs of about 16 MB."""
    import h5py
    import numpy as np
    rng = np.random.default_rng(seed)
    with h5py.File(path, 'r+') as f:
        def fill(_, obj):
            if isinstance(obj, h5py.Dataset) and obj.size > 0 and obj.dtype.kind == 'f':
                if obj.ndim == 0:
                    obj[()] = rng.standard_normal()
                    return
                rows = max(1, (1 << 22) // max(1, obj.size // obj.shape[0]))
                for s in range(0, obj.shape[0], rows):
                    part = obj[s:s + rows]
                    obj[s:s + rows] = rng.standard_normal(part.shape).astype(obj.dtype)
        f.visititems(fill)


def dense_keras_archive(zeros, target, seed=0):
    """A .keras archive with random weights, entries stored as Keras stores them."""
    import tempfile
    import zipfile
    tmp = tempfile.mkdtemp(dir=os.path.dirname(target))
    with zipfile.ZipFile(zeros) as z:
        z.extractall(tmp)
        names = [i.filename for i in z.infolist()]
    fill_h5(os.path.join(tmp, 'model.weights.h5'), seed)
    with zipfile.ZipFile(target + '.tmp', 'w', zipfile.ZIP_STORED) as out:
        for name in names:
            out.write(os.path.join(tmp, name), name)
    shutil.rmtree(tmp)
    os.rename(target + '.tmp', target)


def dense_onnx(zeros, target, extra_classes=0, external=False, seed=0):
    """Random float weights; optionally a classifier widened by extra_classes rows (to pass 2 GB)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    rng = np.random.default_rng(seed)
    m = onnx.load(zeros)
    last_gemm = [n for n in m.graph.node if n.op_type == 'Gemm'][-1]
    for t in m.graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT:
            continue
        a = numpy_helper.to_array(t)
        shape = list(a.shape)
        if extra_classes and t.name in last_gemm.input[1:]:
            shape[0] += extra_classes
        t.CopyFrom(numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), t.name))
    if extra_classes:
        out = m.graph.output[0].type.tensor_type.shape.dim
        out[-1].dim_value += extra_classes
    data = os.path.basename(target) + '.data'
    onnx.save(m, target + '.tmp', save_as_external_data=external, all_tensors_to_one_file=True, location=data,
              size_threshold=1024)
    os.rename(target + '.tmp', target)


def dense_safetensors(zeros, target, seed=0):
    """The safetensors file with random values in every float32 tensor, written in place."""
    import struct
    import numpy as np
    rng = np.random.default_rng(seed)
    shutil.copyfile(zeros, target + '.tmp')
    with open(target + '.tmp', 'r+b') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        for name, info in header.items():
            if name == '__metadata__' or info['dtype'] != 'F32':
                continue
            begin, end = info['data_offsets']
            f.seek(8 + n + begin)
            f.write((rng.standard_normal((end - begin) // 4) * 0.05).astype('<f4').tobytes())
    os.rename(target + '.tmp', target)


def big_state_dict(target_safetensors, target_pth):
    """A 2.1 GB state dict (a stem convolution, then eight 256 MiB tensors of random values), written by
    PyTorch as torch.save and, in the same tensor order, as safetensors."""
    code = f"""
import collections, json, struct, torch
g = torch.Generator().manual_seed(1)
sd = collections.OrderedDict()
sd['conv1.weight'] = torch.randn(64, 3, 7, 7, generator=g)
for i in range(8):
    sd['blocks.%d.weight' % i] = torch.randn(8192, 8192, generator=g)
torch.save(sd, {target_pth + '.tmp'!r})
header, position = collections.OrderedDict(), 0
for name, t in sd.items():
    size = t.numel() * t.element_size()
    header[name] = {{'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [position, position + size]}}
    position += size
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * ((8 - len(text) % 8) % 8)
with open({target_safetensors + '.tmp'!r}, 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text)
    for t in sd.values():
        f.write(t.numpy().tobytes())
"""
    subprocess.run(['/usr/bin/python3', '-c', code], check=True)
    os.rename(target_pth + '.tmp', target_pth)
    os.rename(target_safetensors + '.tmp', target_safetensors)


def big_keras(target_h5, target_keras, classes):
    """keras.applications.VGG19 with a head of `classes` classes (random weights), built by real Keras."""
    code = f"""
import sys; sys.path.insert(0, {os.path.join(HERE, '..', 'shared', 'keras-ref')!r})
import keras_ref; keras = keras_ref.load_keras()
m = keras.applications.VGG19(weights=None, classes={classes}, classifier_activation=None)
m.save({target_h5 + '.tmp.h5'!r}); m.save({target_keras + '.tmp.keras'!r})
"""
    subprocess.run(['/usr/bin/python3', '-c', code], check=True)
    os.rename(target_h5 + '.tmp.h5', target_h5)
    os.rename(target_keras + '.tmp.keras', target_keras)


H5PY_EXTEND = r'''
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
                if isinstance(t, dict) and t['config']['keras_history'][0] == cfg['config']['layers'][0]['name']:
                    t['config']['shape'][-1] = 4
    f.attrs['model_config'] = json.dumps(cfg)
'''


def prepare(work, big):
    """The models, made dense; returns {label: path}."""
    os.makedirs(work, exist_ok=True)
    models = {'example (590 KB)': os.path.join(HERE, 'examples', 'tiny_vgg.h5')}
    h5 = os.path.join(work, 'VGG19.h5')
    if not os.path.exists(h5):
        fill_h5(unxz('keras-apps/VGG19.h5.xz', h5 + '.zeros'))
        os.rename(h5 + '.zeros', h5)
    models['VGG19.h5 (574 MB)'] = h5
    keras = os.path.join(work, 'VGG19.keras')
    if not os.path.exists(keras):
        dense_keras_archive(unxz('keras-apps/VGG19.keras.xz', keras + '.zeros'), keras)
        os.remove(keras + '.zeros')
    models['VGG19.keras (574 MB)'] = keras
    onnx = os.path.join(work, 'vgg19.onnx')
    if not os.path.exists(onnx):
        dense_onnx(unxz('onnx-apps/tv_vgg19.onnx.xz', onnx + '.zeros'), onnx)
        os.remove(onnx + '.zeros')
    models['vgg19.onnx (548 MB)'] = onnx
    resnet = os.path.join(work, 'resnet50.safetensors')
    if not os.path.exists(resnet):
        dense_safetensors(unxz('onnx-apps/timm_resnet50.safetensors.xz', resnet + '.zeros'), resnet)
        os.remove(resnet + '.zeros')
    models['resnet50.safetensors (102 MB)'] = resnet
    if big:
        big_st, big_pth = os.path.join(work, 'big.safetensors'), os.path.join(work, 'big.pth')
        if not os.path.exists(big_pth):
            big_state_dict(big_st, big_pth)
        models['big.safetensors (2.1 GB)'] = big_st
        models['big.pth (2.1 GB)'] = big_pth
        big_h5, big_k = os.path.join(work, 'VGG19_big.h5'), os.path.join(work, 'VGG19_big.keras')
        if not os.path.exists(big_h5):
            big_keras(big_h5, big_k, 110000)
        models['VGG19_big.h5 (2.4 GB)'] = big_h5
        models['VGG19_big.keras (2.4 GB)'] = big_k
        zeros = unxz('onnx-apps/tv_vgg19.onnx.xz', os.path.join(work, 'tv_vgg19.zeros.onnx'))
        inline = os.path.join(work, 'vgg19_inline.onnx')
        if not os.path.exists(inline):
            dense_onnx(zeros, inline, extra_classes=80000)
        models['vgg19_inline.onnx (1.9 GB)'] = inline
        ext = os.path.join(work, 'vgg19_external.onnx')
        if not os.path.exists(ext):
            dense_onnx(zeros, ext, extra_classes=110000, external=True)
        models['vgg19_external.onnx (2.4 GB + data)'] = ext
    return models


def jobs_for(models, work):
    """(name, command, outputs to remove, files to warm) for every job."""
    script = os.path.join(work, 'h5py_extend.py')
    with open(script, 'w') as f:
        f.write(H5PY_EXTEND)
    jobs = []
    for label, path in models.items():
        ext = os.path.splitext(path)[1]
        out = os.path.join(work, 'out' + ext)
        outputs = [out, out + '.data', out + '.input.json']  # the model, its external data, its input contract
        parts = [path] + ([path + '.data'] if os.path.exists(path + '.data') else [])
        if not label.startswith('example'):
            copy = ['cp', path, out] if len(parts) == 1 else \
                ['sh', '-c', f'cp "{path}" "{out}" && cp "{path}.data" "{out}.data"']
            jobs.append((f'cp {label}', copy, outputs, parts))
        if ext == '.h5' and not label.startswith('example'):
            jobs.append((f'h5py script {label}', ['/usr/bin/python3', script, path, out], outputs, parts))
        # the Keras models are caffe-style VGG19s: named by what they see, as the README's VGG19 command does
        source = [] if ext == '.onnx' else ['--from', 'BGR']
        jobs.append((f'rechannel {label}', [RECHANNEL, 'extend', path] + source + ['--to', 'RGBY', '--init', 'Y=B', '-o', out],
                     outputs, parts))
        if ext == '.onnx':
            # verify of an ONNX model runs ONNX Runtime: on the adapted layers' sub-graph for models over 128 MB
            adapted = os.path.join(work, 'verify-' + os.path.basename(path))
            if not os.path.exists(adapted):
                subprocess.run([RECHANNEL, 'extend', path, '--to', 'RGBY', '--init', 'Y=B', '-o', adapted], check=True,
                               stdout=subprocess.DEVNULL)
            adapted_parts = [adapted] + ([adapted + '.data'] if os.path.exists(adapted + '.data') else [])
            jobs.append((f'rechannel verify {label}', [RECHANNEL, 'verify', path, adapted, '--to', 'RGBY', '--init', 'Y=B'],
                         [], parts + adapted_parts))
    return jobs


def timed(command, work):
    """Wall seconds (around the whole run), peak RSS in MB and CPU seconds (user + system), the last two
    from GNU time: the rusage of a child of this Python process would count this process's own pages,
    which fork and exec carry over."""
    report = os.path.join(work, 'rss')
    start = time.perf_counter()
    proc = subprocess.run(['/usr/bin/time', '-f', '%M %U %S', '-o', report] + command,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f'{command}: exit {proc.returncode}: {proc.stderr.decode()}')
    with open(report) as f:
        rss, user, system = f.read().split()[-3:]
        return elapsed, int(rss) / 1024, float(user) + float(system)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=9)
    parser.add_argument('--big', action='store_true', help='also the generated models over 2 GB')
    parser.add_argument('--work', default=os.environ.get('BENCH_DIR', '/tmp/rechannel-bench'))
    parser.add_argument('--only', nargs='*', default=[])
    args = parser.parse_args()
    models = prepare(args.work, args.big)
    jobs = [j for j in jobs_for(models, args.work) if not args.only or any(s in j[0] for s in args.only)]
    subprocess.run([RECHANNEL, '--version'], check=True, stdout=subprocess.DEVNULL)  # class-data archive
    results = {name: [] for name, *_ in jobs}
    load_before = os.getloadavg()[0]
    for r in range(args.rounds):
        for name, command, outputs, parts in jobs:
            for o in outputs:
                if os.path.exists(o):
                    os.remove(o)
            for p in parts:  # warm the page cache, then settle dirty pages, outside the timing
                with open(p, 'rb') as f:
                    while f.read(1 << 24):
                        pass
            subprocess.run(['sync'], check=True)
            results[name].append(timed(command, args.work))
        print(f'round {r + 1}/{args.rounds} done', file=sys.stderr)
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
    print(f'{os.cpu_count()} cores ({cpu}), {os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 30} GiB, '
          f'{platform.system()} {platform.release()}; {args.rounds} interleaved rounds; {time.strftime("%Y-%m-%d")}; '
          f'load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after')
    print()
    print('| job | median s | min s | max s | × cp | CPU s | peak RSS MB |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    medians = {name: statistics.median(v[0] for v in values) for name, values in results.items()}
    for name, values in results.items():
        secs = [v[0] for v in values]
        label = name.split(' ', 2)[-1] if name.startswith('h5py script') else name.split(' ', 1)[1]
        cp = medians.get('cp ' + label)
        ratio = f'{medians[name] / cp:.2f}' if cp else ''
        print(f'| {name} | {medians[name]:.3f} | {min(secs):.3f} | {max(secs):.3f} | {ratio} | '
              f'{statistics.median(v[2] for v in values):.2f} | {max(v[1] for v in values):.0f} |')
    with open(os.path.join(args.work, 'results.json'), 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
