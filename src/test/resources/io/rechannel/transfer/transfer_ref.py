"""Reference side of rechannel's cross-format transfer tests: one small architecture built in real Keras
(keras-ref) and in PyTorch (Debian's python3-torch), each with its own random weights, and the PyTorch side run.

  transfer_ref.py keras-make DIR KERAS_REF   keras_pretrained.{keras,h5}, keras_template.{keras,h5}, x.npy
  transfer_ref.py torch-make DIR             torch_pretrained.pth, torch_template.pth (state dicts, modules named
                                             as the Keras layers; the template as .safetensors too),
                                             onnx_pretrained.onnx, onnx_template.onnx
                                             (an nn.Sequential exported with its BatchNormalization kept)
  transfer_ref.py torch-predict PTH X.npy OUT.npy
                                             loads PTH with torch.load(weights_only=True) into the architecture
                                             (strict=True) and runs it on X (NHWC, transposed to NCHW)

The architecture: Conv2D(4, 3, same) -> BatchNormalization(eps 1e-3) -> ReLU -> DepthwiseConv2D(3, same)
-> Conv2D(6, 1) -> global average pooling -> Dense(5), on 8x8x3 inputs.
"""
import os
import sys

import numpy as np


def keras_make(out, ref):
    sys.path.insert(0, ref)
    import keras_ref
    keras = keras_ref.load_keras()
    layers = keras.layers

    def build(seed):
        inp = keras.Input((8, 8, 3), name="image")
        x = layers.Conv2D(4, 3, padding="same", name="conv")(inp)
        x = layers.BatchNormalization(epsilon=1e-3, name="bn")(x)
        x = layers.ReLU(name="relu")(x)
        x = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
        x = layers.Conv2D(6, 1, name="pw")(x)
        x = layers.GlobalAveragePooling2D(name="gap")(x)
        x = layers.Dense(5, name="fc")(x)
        model = keras.Model(inp, x)
        rng = np.random.RandomState(seed)
        for layer in model.layers:
            weights = [(0.5 * rng.standard_normal(w.shape)).astype("float32") for w in layer.get_weights()]
            if layer.name == "bn":
                weights[3] = np.abs(weights[3]) + 0.5
            layer.set_weights(weights)
        return model

    pretrained = build(1)
    pretrained.save(os.path.join(out, "keras_pretrained.keras"))
    pretrained.save(os.path.join(out, "keras_pretrained.h5"))
    template = build(2)
    template.save(os.path.join(out, "keras_template.keras"))
    template.save(os.path.join(out, "keras_template.h5"))
    np.save(os.path.join(out, "x.npy"), np.random.RandomState(3).standard_normal((2, 8, 8, 3)).astype("float32"))


def torch_net(named):
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4, eps=1e-3)
            self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
            self.pw = nn.Conv2d(4, 6, 1)
            self.fc = nn.Linear(6, 5)

        def forward(self, x):
            x = self.pw(self.dw(self.bn(self.conv(x)).relu()))
            return self.fc(x.mean(dim=(2, 3)))

    if named:
        return Net()
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4, eps=1e-3), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.Conv2d(4, 6, 1), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(6, 5))


def randomised(net, seed):
    import torch
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if tensor.dtype.is_floating_point:
                values = 0.5 * torch.randn(tensor.shape, generator=generator)
                tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)
    return net.eval()


def torch_make(out):
    import torch
    for name, seed in (("torch_pretrained.pth", 4), ("torch_template.pth", 5)):
        torch.save(randomised(torch_net(True), seed).state_dict(), os.path.join(out, name))
    # the template as safetensors too, written by the torch tests' independent writer
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
    import torch_ref
    torch_ref.st_write(os.path.join(out, "torch_template.safetensors"), torch.load(os.path.join(out, "torch_template.pth")))
    for name, seed in (("onnx_pretrained.onnx", 6), ("onnx_template.onnx", 7)):
        torch.onnx.export(randomised(torch_net(False), seed), torch.zeros(1, 3, 8, 8), os.path.join(out, name),
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)


def torch_predict(pth, x, out):
    import torch
    net = torch_net(True)
    net.load_state_dict(torch.load(pth, weights_only=True), strict=True)
    with torch.no_grad():
        y = net.eval()(torch.from_numpy(np.load(x)).permute(0, 3, 1, 2).contiguous())
    np.save(out, y.numpy())


def main(argv):
    command = argv[0]
    if command == "keras-make":
        keras_make(argv[1], argv[2])
    elif command == "torch-make":
        torch_make(argv[1])
    elif command == "torch-predict":
        torch_predict(argv[1], argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
