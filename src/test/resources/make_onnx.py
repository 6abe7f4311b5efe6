"""Writes small ONNX models for graph shapes no fixture has (Debian python3-onnx).

Usage: make_onnx.py KIND OUT.onnx   (KIND: nhwc, flatten, conv1d, grouped, constant_node, transpose_conv, noconv, uint8_input,
                                     uint8_normalised, float16, scaled_then_normalised)
"""
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(5)


def init(name, shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def model(nodes, inputs, outputs, initializers):
    g = helper.make_graph(nodes, "synthetic", inputs, outputs, initializers)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


kind, out = sys.argv[1], sys.argv[2]
if kind == "nhwc":
    # as converted from TensorFlow: NHWC input, transposed, normalised with per-channel constants, then a conv
    nodes = [helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("Sub", ["nchw", "mean"], ["centred"]),
             helper.make_node("Div", ["centred", "std"], ["normalised"]),
             helper.make_node("Conv", ["normalised", "W", "B"], ["features"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["features"], ["out"])]
    m = model(nodes, [vi("image", ["batch", 8, 8, 3])], [vi("out", ["batch", 5, 8, 8])],
              [numpy_helper.from_array(np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1), "mean"),
               numpy_helper.from_array(np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1), "std"),
               init("W", (5, 3, 3, 3)), init("B", (5,))])
elif kind == "flatten":
    nodes = [helper.make_node("Flatten", ["x"], ["flat"], axis=1),
             helper.make_node("Gemm", ["flat", "W", "B"], ["y"], transB=1)]
    m = model(nodes, [vi("x", [1, 3, 4, 4])], [vi("y", [1, 6])], [init("W", (6, 48)), init("B", (6,))])
elif kind == "conv1d":
    nodes = [helper.make_node("Mul", ["signal", "gain"], ["scaled"]),
             helper.make_node("Conv", ["scaled", "W"], ["y"])]
    m = model(nodes, [vi("signal", [2, 3, 64])], [vi("y", [2, 4, 60])],
              [numpy_helper.from_array(np.array(0.5, np.float32), "gain"), init("W", (4, 3, 5))])
elif kind == "grouped":
    nodes = [helper.make_node("Conv", ["x", "W"], ["y"], group=3)]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 3, 6, 6])], [init("W", (3, 1, 3, 3))])
elif kind == "constant_node":
    # normalisation constants as Constant nodes, batch normalisation in front of the conv
    mean = helper.make_tensor("m", TensorProto.FLOAT, [3, 1, 1], [0.5, 0.4, 0.3])
    nodes = [helper.make_node("Constant", [], ["mean"], value=mean),
             helper.make_node("Sub", ["x", "mean"], ["c"]),
             helper.make_node("BatchNormalization", ["c", "s", "b", "mu", "var"], ["n"], epsilon=1e-3),
             helper.make_node("Conv", ["n", "W"], ["y"])]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 2, 6, 6])],
              [init("s", (3,)), init("b", (3,)), init("mu", (3,)),
               numpy_helper.from_array((rng.random(3) + 0.5).astype(np.float32), "var"), init("W", (2, 3, 3, 3))])
elif kind == "transpose_conv":
    nodes = [helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], strides=[2, 2])]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 17, 17])], [init("W", (3, 4, 3, 3)), init("B", (4,))])
elif kind == "uint8_input":
    # an image input in bytes, cast to float and scaled inside the model
    nodes = [helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Div", ["f", "255"], ["scaled"]),
             helper.make_node("Conv", ["scaled", "W"], ["y"])]
    m = model(nodes, [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, 8, 8])], [vi("y", [1, 2, 6, 6])],
              [numpy_helper.from_array(np.array(255.0, np.float32), "255"), init("W", (2, 3, 3, 3))])
elif kind == "uint8_normalised":
    # an image input in bytes, normalised per channel inside the model (no ONNX Runtime check is possible)
    nodes = [helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Sub", ["f", "mean"], ["centred"]),
             helper.make_node("Div", ["centred", "std"], ["scaled"]),
             helper.make_node("Conv", ["scaled", "W"], ["y"])]
    m = model(nodes, [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, 8, 8])], [vi("y", [1, 2, 6, 6])],
              [numpy_helper.from_array(np.array([123.7, 116.3, 103.5], np.float32).reshape(1, 3, 1, 1), "mean"),
               numpy_helper.from_array(np.array([58.4, 57.1, 57.4], np.float32).reshape(1, 3, 1, 1), "std"),
               init("W", (2, 3, 3, 3))])
elif kind == "float16":
    # a half-precision model: input, constants and weights in float16
    def half(name, values):
        return numpy_helper.from_array(np.asarray(values, np.float16), name)
    nodes = [helper.make_node("Sub", ["x", "mean"], ["c"]),
             helper.make_node("Conv", ["c", "W", "B"], ["y"])]
    m = model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 3, 8, 8])],
              [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 4, 6, 6])],
              [half("mean", np.array([0.4, 0.5, 0.6]).reshape(1, 3, 1, 1)), half("W", rng.standard_normal((4, 3, 3, 3))),
               half("B", rng.standard_normal(4))])
elif kind == "scaled_then_normalised":
    # a per-channel gain in front of the normalisation: the statistics belong to the Sub and the Div after it
    nodes = [helper.make_node("Mul", ["x", "gain"], ["g"]),
             helper.make_node("Sub", ["g", "mean"], ["c"]),
             helper.make_node("Div", ["c", "std"], ["n"]),
             helper.make_node("Conv", ["n", "W"], ["y"])]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 6, 6])],
              [numpy_helper.from_array(np.array([2, 3, 4], np.float32).reshape(1, 3, 1, 1), "gain"),
               numpy_helper.from_array(np.array([0.4, 0.5, 0.6], np.float32).reshape(1, 3, 1, 1), "mean"),
               numpy_helper.from_array(np.array([0.2, 0.3, 0.25], np.float32).reshape(1, 3, 1, 1), "std"),
               init("W", (4, 3, 3, 3))])
elif kind == "noconv":
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    m = model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 3, 8, 8])], [])
else:
    raise SystemExit("unknown kind " + kind)
onnx.save(m, out)
