"""Writes small legacy Keras HDF5 models in the Keras 3 layout, for cases no fixture covers.

Usage: make_synthetic.py KIND OUT.h5   (KIND: concat, flatten, grouped, separable, float16_gzip)
The configs follow what Keras 3 writes (Functional, inbound_nodes with __keras_tensor__ shapes).
"""
import json, sys
import h5py
import numpy as np

rng = np.random.default_rng(3)


def tensor(shape, layer):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}}


def layer(cls, name, config, inputs):
    config = dict(config, name=name)
    args = [inputs] if len(inputs) > 1 else inputs
    return {"class_name": cls, "name": name, "config": config,
            "inbound_nodes": [{"args": args, "kwargs": {}}] if inputs else []}


def write(path, layers, inputs, outputs, weights, dtype=np.float32, **dataset_options):
    with h5py.File(path, "w") as f:
        cfg = {"class_name": "Functional", "config": {"name": "synthetic", "trainable": True, "layers": layers,
                                                         "input_layers": inputs, "output_layers": outputs}}
        f.attrs["keras_version"] = "3.16.0"
        f.attrs["backend"] = "torch"
        f.attrs["model_config"] = json.dumps(cfg)
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [l["name"] for l in layers]
        for l in layers:
            lg = g.create_group(l["name"])
            names = list(weights.get(l["name"], {}).keys())
            lg.attrs["weight_names"] = ["%s/%s" % (l["name"], n) for n in names] if names else np.zeros(0)
            for n in names:
                lg.create_dataset("%s/%s" % (l["name"], n), data=weights[l["name"]][n].astype(dtype), **dataset_options)


def conv(name, kernel, inputs, groups=1):
    return layer("Conv2D", name, {"filters": kernel[-1], "kernel_size": kernel[:2], "padding": "same",
                                  "data_format": "channels_last", "groups": groups, "use_bias": True}, inputs)


kind, out = sys.argv[1], sys.argv[2]
if kind == "concat":
    layers = [
        layer("InputLayer", "image", {"batch_shape": [None, 8, 8, 3]}, []),
        layer("InputLayer", "mask", {"batch_shape": [None, 8, 8, 1]}, []),
        layer("Normalization", "norm", {"axis": -1, "mean": [0.1, 0.2, 0.3], "variance": [1.0, 2.0, 4.0]},
              [tensor([None, 8, 8, 3], "image")]),
        layer("Concatenate", "join", {"axis": -1}, [tensor([None, 8, 8, 1], "mask"), tensor([None, 8, 8, 3], "norm")]),
        conv("mix", [3, 3, 4, 5], [tensor([None, 8, 8, 4], "join")]),
        conv("side", [1, 1, 3, 2], [tensor([None, 8, 8, 3], "image")]),
    ]
    weights = {"mix": {"kernel": rng.standard_normal((3, 3, 4, 5)), "bias": rng.standard_normal(5)},
               "side": {"kernel": rng.standard_normal((1, 1, 3, 2)), "bias": rng.standard_normal(2)}}
    write(out, layers, [["image", 0, 0], ["mask", 0, 0]], [["mix", 0, 0], ["side", 0, 0]], weights)
elif kind == "flatten":
    layers = [
        layer("InputLayer", "pixels", {"batch_shape": [None, 4, 4, 3]}, []),
        layer("Flatten", "flat", {"data_format": "channels_last"}, [tensor([None, 4, 4, 3], "pixels")]),
        layer("Dense", "head", {"units": 6, "use_bias": True}, [tensor([None, 48], "flat")]),
    ]
    weights = {"head": {"kernel": rng.standard_normal((48, 6)), "bias": rng.standard_normal(6)}}
    write(out, layers, [["pixels", 0, 0]], [["head", 0, 0]], weights)
elif kind == "grouped":
    layers = [
        layer("InputLayer", "x", {"batch_shape": [None, 8, 8, 3]}, []),
        conv("g", [3, 3, 1, 3], [tensor([None, 8, 8, 3], "x")], groups=3),
    ]
    write(out, layers, [["x", 0, 0]], [["g", 0, 0]], {"g": {"kernel": rng.standard_normal((3, 3, 1, 3)),
                                                          "bias": rng.standard_normal(3)}})
elif kind == "separable":
    layers = [
        layer("InputLayer", "x", {"batch_shape": [None, 8, 8, 3]}, []),
        layer("SeparableConv2D", "sep", {"filters": 5, "kernel_size": [3, 3], "depth_multiplier": 2,
                                         "data_format": "channels_last", "use_bias": True},
              [tensor([None, 8, 8, 3], "x")]),
    ]
    write(out, layers, [["x", 0, 0]], [["sep", 0, 0]],
          {"sep": {"depthwise_kernel": rng.standard_normal((3, 3, 3, 2)),
                   "pointwise_kernel": rng.standard_normal((1, 1, 6, 5)), "bias": rng.standard_normal(5)}})
elif kind == "float16_gzip":
    # half-precision weights stored chunked and gzip-compressed
    layers = [
        layer("InputLayer", "x", {"batch_shape": [None, 8, 8, 3]}, []),
        conv("c", [3, 3, 3, 4], [tensor([None, 8, 8, 3], "x")]),
    ]
    write(out, layers, [["x", 0, 0]], [["c", 0, 0]], {"c": {"kernel": rng.standard_normal((3, 3, 3, 4)),
                                                          "bias": rng.standard_normal(4)}},
          dtype=np.float16, chunks=True, compression="gzip")
else:
    raise SystemExit("unknown kind " + kind)
