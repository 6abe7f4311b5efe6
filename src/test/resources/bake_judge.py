"""Real Keras (keras-ref: Keras 3.16.0 on its numpy backend) judges a model whose preprocessing rechannel baked in.

Usage: /usr/bin/python3 bake_judge.py KERAS_REF_DIR REQUEST_JSON
REQUEST_JSON: {"cases": [{"original": P, "adapted": P, "select": [i, ...], "axis": -1|1, "mean": [...], "std": [...],
               "low": 0, "high": 255, "batch": 2, "freeDim": 32, "seed": 1}, ...]}
For each case, loads both models and feeds the adapted one raw values x, uniform in [low, high], on every channel
(its new ones included), and the original the same x taken at `select` along `axis` (select[i] = the adapted
channel holding original channel i) and preprocessed as the original expects, (x - mean) / std per channel in
float32. Prints one JSON object: {"results": [{"ok", "diff", "scale", "relative", "shapes"} or {"ok": false,
"error"}]}, Keras's own prints going to stderr.
"""
import json
import os
import sys

reply_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w")
sys.stdout = sys.stderr  # Keras must not write into the reply

sys.path.insert(0, sys.argv[1])
import keras_ref  # noqa: E402

keras = keras_ref.load_keras()
import numpy as np  # noqa: E402


def shaped(values, rank, axis):
    shape = [1] * rank
    shape[axis] = len(values)
    return np.asarray(values, dtype=np.float32).reshape(shape)


def outputs(model, x):
    y = model(x, training=False)
    return [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64) for v in (y if isinstance(y, (list, tuple)) else [y])]


def judge(case):
    rng = np.random.default_rng(case.get("seed", 1))
    adapted = keras.saving.load_model(case["adapted"], compile=False)
    original = keras.saving.load_model(case["original"], compile=False)
    batch, free_dim = case.get("batch", 2), case.get("freeDim", 32)
    shape = [batch] + [free_dim if d is None else d for d in list(adapted.inputs[0].shape)[1:]]
    x = rng.uniform(case["low"], case["high"], shape).astype(np.float32)
    axis = case["axis"] % len(shape)
    old = np.take(x, case["select"], axis=axis)
    old = (old - shaped(case["mean"], len(shape), axis)) / shaped(case["std"], len(shape), axis)
    a = outputs(adapted, x)
    b = outputs(original, old.astype(np.float32))
    diff = max(float(np.abs(p - q).max()) for p, q in zip(a, b))
    scale = max(float(np.abs(q).max()) for q in b)
    return {"ok": True, "diff": diff, "scale": scale, "relative": diff / scale if scale > 0 else None,
            "shapes": [list(v.shape) for v in a], "originalShapes": [list(v.shape) for v in b]}


results = []
for case in json.loads(open(sys.argv[2]).read())["cases"]:
    try:
        results.append(judge(case))
    except Exception as e:  # noqa: BLE001 - Keras refusing the model is the answer
        results.append({"ok": False, "error": f"{type(e).__name__}: {e}".replace("\n", " ")})
reply_stream.write(json.dumps({"results": results}) + "\n")
reply_stream.flush()
