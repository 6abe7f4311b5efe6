"""Makes the Keras models the baked-preprocessing tests need and the fixtures lack, with the real Keras (keras-ref).

Usage: /usr/bin/python3 make_bake_models.py KERAS_REF_DIR OUT_DIR
  xception_tiny.{keras,h5}  a small Functional model named 'xception': keras.applications' tf-mode name
                            (preprocess_input scales 0-255 to [-1, 1])
  normalized_tiny.keras     input -> Normalization (adapted: its mean and variance are stored weights) -> Conv2D ...:
                            a model that already holds a Normalization layer and no Rescaling
Weights are seeded random values.
"""
import os
import sys

sys.stdout = sys.stderr  # Keras's prints are no reply
sys.path.insert(0, sys.argv[1])
import keras_ref  # noqa: E402

keras = keras_ref.load_keras()
import numpy as np  # noqa: E402

out = sys.argv[2]
rng = np.random.default_rng(7)


def randomise(model):
    for w in model.weights:
        if w.trainable:
            w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))


inp = keras.Input((32, 32, 3), name="image")
x = keras.layers.Conv2D(8, 3, activation="relu", name="block1_conv1")(inp)
x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
y = keras.layers.Dense(5, name="predictions")(x)
model = keras.Model(inp, y, name="xception")
randomise(model)
model.save(os.path.join(out, "xception_tiny.keras"))
model.save(os.path.join(out, "xception_tiny.h5"))

inp = keras.Input((16, 16, 3), name="pixels")
norm = keras.layers.Normalization(axis=-1, name="norm")
norm.adapt(rng.uniform(0, 1, (8, 16, 16, 3)).astype("float32"))
x = keras.layers.Conv2D(6, 3, activation="relu", name="conv")(norm(inp))
x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
y = keras.layers.Dense(4, name="head")(x)
model = keras.Model(inp, y, name="normalized_tiny")
for layer in (model.get_layer("conv"), model.get_layer("head")):
    for w in layer.weights:
        w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))
model.save(os.path.join(out, "normalized_tiny.keras"))
