"""Real Keras (keras-ref: Keras 3.16.0 on its numpy backend) as the judge of rechannel's Keras outputs.

Usage: /usr/bin/python3 keras_judge.py KERAS_REF_DIR
One request per line on stdin, one JSON reply per line on stdout (Keras's own prints go to stderr), so that a
test class imports Keras once (about 2 s) however many models it judges.

  {"op": "judge", "original": P, "adapted": P, "originalWeights": P|null, "adaptedWeights": P|null,
   "input": NAME, "axis": -1|1, "select": [i, ...]|null, "optimizer": bool, "batch": 2, "freeDim": 32, "seed": 1}
      Loads both models (and the weights files into them), feeds the adapted model random x' (unknown sizes:
      batch, then freeDim) and the original the same x' with the input NAME taken at `select` along `axis`
      (select[i] = the adapted channel holding original channel i). Replies the outputs' shapes, whether they
      are finite, and with `select` the largest difference to the original's outputs and its scale.
      With `optimizer`, both are also loaded with compile=True: the adapted file must give no warning or
      error about its optimizer state that the original does not give.
  {"op": "refuses", "path": P}   whether Keras refuses to load the file, and its message.
  {"op": "fill", "path": P, "seed": 1}
      Gives a zero-filled keras.applications file (.h5, or the weights inside a .keras) seeded random values
      with h5py: kernels scaled by their fan-in, vectors near one (batch-norm variances stay positive).

Every reply has "ok" (false with "error": the exception on one line, Keras's message included).
"""
import contextlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
import zipfile

reply_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w")
sys.stdout = sys.stderr  # Keras must not write into the replies

sys.path.insert(0, sys.argv[1])
import keras_ref  # noqa: E402

keras = keras_ref.load_keras()
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def one_line(e):
    return f"{type(e).__name__}: {e}".replace("\n", " ")


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def capture():
    """Collects Python warnings and logged warnings (Keras reports optimizer-state trouble through absl logging)."""
    handler = Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield handler.messages
            handler.messages.extend(str(w.message) for w in caught)
    finally:
        root.removeHandler(handler)


def load(path, weights, compile=False):
    model = keras.saving.load_model(path, compile=compile)
    if weights:
        model.load_weights(weights)
    return model


def random_inputs(model, batch, free_dim, rng):
    xs = {}
    for t in model.inputs:
        shape = [batch] + [free_dim if d is None else d for d in list(t.shape)[1:]]
        xs[t.name] = rng.standard_normal(shape).astype(np.float32)
    return xs


def graph_nodes(model):
    """The nodes of the model's own graph (a Sequential model's functional twin), inputs first."""
    graph = getattr(model, "_functional", None) or model
    by_depth = graph._nodes_by_depth
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def probe(model, input_name):
    """The model with, as outputs, its own outputs and then every layer call (a nested model is one) that the
    input's channels do not reach directly: the layers between the input and the first layers with a kernel carry
    the input's channels (another count, or another order), so they are compared through the layers reading them."""
    carrying, names, tensors = set(), [], []
    for node in graph_nodes(model):
        layer = node.operation
        if node.is_input:
            if layer.name == input_name:
                carrying.add(id(node))
            continue
        if any(id(p) in carrying for p in node.parent_nodes) \
                and not any(w.path.endswith("kernel") for w in getattr(layer, "weights", [])):
            carrying.add(id(node))
            continue
        outputs = list(node.output_tensors)
        for i, tensor in enumerate(outputs):
            name = layer.name if len(outputs) == 1 else f"{layer.name}[{i}]"
            names.append(name if name not in names else f"{name} (call {names.count(name) + 1})")
            tensors.append(tensor)
    return names, keras.Model(model.inputs, list(model.outputs) + tensors)


def run(model, input_name, xs):
    names, probing = probe(model, input_name)
    ordered = [xs[t.name] for t in model.inputs]
    ys = [np.asarray(v) for v in probing.predict(ordered if len(ordered) > 1 else ordered[0], verbose=0)]
    return ys[:len(model.outputs)], dict(zip(names, ys[len(model.outputs):]))


def finite_or_none(v):
    return v if np.isfinite(v) else None


def compare(adapted, original):
    """Layer by layer, the largest difference relative to the original's magnitude (relative None: not comparable)."""
    worst = {"relative": 0.0, "layer": None, "diff": 0.0, "scale": 0.0}
    for name, b in original.items():
        a = adapted.get(name)
        if a is None or a.shape != b.shape:
            return {"relative": None, "layer": name, "diff": None, "scale": None,
                    "reason": f"output shape {None if a is None else list(a.shape)}, the original's {list(b.shape)}"}
        diff = float(np.abs(a.astype(np.float64) - b).max()) if b.size else 0.0
        scale = float(np.abs(b).max()) if b.size else 0.0
        relative = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
        if not np.isfinite(relative):
            return {"relative": None, "layer": name, "diff": finite_or_none(diff), "scale": finite_or_none(scale),
                    "reason": "not finite"}
        if relative >= worst["relative"]:
            worst = {"relative": relative, "layer": name, "diff": diff, "scale": scale}
    return worst


_originals = {}


def original_model(path, weights):
    """The original is judged against several adaptations in a row: keep the last one loaded, with what is known
    of it (the shapes of its outputs for each input size, what Keras says of its optimizer state)."""
    key = (path, weights)
    if key not in _originals:
        _originals.clear()
        _originals[key] = (load(path, weights), {})
    return _originals[key]


def optimizer_messages(path, weights):
    """What Keras says about a file's optimizer state when it compiles the model from the file, without the file's
    name and the counter Keras appends to the names of optimizers it made before in this process."""
    try:
        with capture() as messages:
            load(path, weights, compile=True)
    except Exception as e:  # noqa: BLE001 - the refusal is the answer
        messages = ["refused: " + one_line(e)]
    return [re.sub(r"optimizer '([A-Za-z_]+?)(_\d+)?'", r"optimizer '\1'", m.replace(path, "MODEL")) for m in messages]


def judge(r):
    rng = np.random.default_rng(r.get("seed", 1))
    adapted = load(r["adapted"], r.get("adaptedWeights"))
    original, cache = original_model(r["original"], r.get("originalWeights"))
    name, names = r["input"], [t.name for t in adapted.inputs]
    if name not in names and len(names) == 1:
        name = names[0]  # Keras may name a Sequential model's only input otherwise than its config does
    if name not in names:
        raise ValueError(f"the adapted model has no input {name!r}: {names}")
    batch, free_dim = r.get("batch", 2), r.get("freeDim", 32)
    xs = random_inputs(adapted, batch, free_dim, rng)
    y, layers = run(adapted, name, xs)
    reply = {"ok": True, "shapes": [list(v.shape) for v in y], "finite": all(bool(np.isfinite(v).all()) for v in y)}
    if r.get("select") is not None:
        xs[name] = np.take(xs[name], r["select"], axis=r["axis"])
        reference, reference_layers = run(original, name, xs)
        cache[(batch, free_dim)] = [list(v.shape) for v in reference]
        reply.update(compare(layers, reference_layers), compared=list(reference_layers))
    elif (batch, free_dim) not in cache:
        reference, _ = run(original, name, random_inputs(original, batch, free_dim, rng))
        cache[(batch, free_dim)] = [list(v.shape) for v in reference]
    reply["originalShapes"] = cache[(batch, free_dim)]
    if r.get("optimizer"):
        if "optimizer" not in cache:
            cache["optimizer"] = optimizer_messages(r["original"], r.get("originalWeights"))
        reply["originalOptimizer"] = cache["optimizer"]
        reply["adaptedOptimizer"] = optimizer_messages(r["adapted"], r.get("adaptedWeights"))
    return reply


def refuses(r):
    try:
        load(r["path"], None)
        return {"ok": True, "refused": False}
    except Exception as e:  # noqa: BLE001
        return {"ok": True, "refused": True, "message": one_line(e)}


def fill_h5(path, rng):
    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset) or obj.dtype.kind != "f" or obj.ndim == 0:
            return
        if obj.ndim == 1:
            obj[...] = rng.uniform(0.8, 1.2, obj.shape)
        else:
            fan_in = int(np.prod(obj.shape[:-1]))
            obj[...] = rng.standard_normal(obj.shape) * np.sqrt(2.0 / fan_in)

    with h5py.File(path, "r+") as f:
        f.visititems(visit)


def fill(r):
    rng = np.random.default_rng(r.get("seed", 1))
    path = r["path"]
    if not path.endswith(".keras"):
        fill_h5(path, rng)
        return {"ok": True}
    with tempfile.TemporaryDirectory() as scratch:
        weights = os.path.join(scratch, "model.weights.h5")
        copy = os.path.join(scratch, "copy.keras")
        with zipfile.ZipFile(path) as source:
            with open(weights, "wb") as w:
                w.write(source.read("model.weights.h5"))
            fill_h5(weights, rng)
            with zipfile.ZipFile(copy, "w") as target:
                for info in source.infolist():
                    if info.filename == "model.weights.h5":
                        target.write(weights, info.filename, compress_type=info.compress_type)
                    else:
                        target.writestr(info, source.read(info.filename))
        shutil.move(copy, path)
    return {"ok": True}


OPS = {"judge": judge, "refuses": refuses, "fill": fill}

reply_stream.write(json.dumps({"ok": True, "ready": keras.__version__}) + "\n")
reply_stream.flush()
for line in sys.stdin:
    if not line.strip():
        continue
    try:
        request = json.loads(line)
        answer = OPS[request["op"]](request)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the test, Keras's message included
        answer = {"ok": False, "error": one_line(e)}
    reply_stream.write(json.dumps(answer) + "\n")
    reply_stream.flush()
