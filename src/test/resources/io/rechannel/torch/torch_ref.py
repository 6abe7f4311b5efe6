"""Reference side of rechannel's PyTorch tests, run with Debian's python3-torch (1.13).

Makes state dicts and checkpoints with PyTorch, and checks rechannel's outputs with PyTorch itself
(torch.load, load_state_dict(strict=True), forward passes). safetensors files are read and written by
the small independent reader/writer below (struct + json, following the safetensors spec), since the
safetensors package is not in Debian.

Usage: torch_ref.py COMMAND ARGS...; prints one line 'ok ...' or exits non-zero with the reason.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch
import torch.nn as nn

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


def st_read(path):
    """Reads a safetensors file, checking the spec: header length, contiguous in-bounds offsets, sizes."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0, "header length %d is not a multiple of 8" % n
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=collections.OrderedDict)
    metadata = header.pop("__metadata__", None)
    body = data[8 + n:]
    position = 0
    tensors = collections.OrderedDict()
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, end = info["data_offsets"]
        assert begin == position, "%s starts at %d, expected %d" % (name, begin, position)
        dtype = DTYPES[info["dtype"]]
        count = 1
        for d in info["shape"]:
            count *= d
        assert end - begin == count * torch.tensor([], dtype=dtype).element_size(), name
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
        position = end
    assert position == len(body), "data holds %d bytes, tensors %d" % (len(body), position)
    order = list(header.keys())
    return tensors, metadata, order


def st_write(path, tensors, metadata=None):
    header = collections.OrderedDict()
    if metadata is not None:
        header["__metadata__"] = metadata
    position = 0
    blobs = []
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [position, position + len(raw)]}
        position += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load(path, weights_only=True):
    if path.endswith(".safetensors"):
        return st_read(path)[0]
    return torch.load(path, weights_only=weights_only)


class ResNetStem(nn.Module):
    """The first layers of a torchvision ResNet, with a head: conv1, bn1, relu, maxpool, fc."""

    def __init__(self, in_chans=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_chans, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


class PatchEmbed(nn.Module):
    """A ViT's patch embedding (timm's layout: patch_embed.proj) with a class token and a head."""

    def __init__(self, in_chans=3):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_chans, 16, 8, 8)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 16))
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        return self.head(self.norm(x)[:, 0])


MODELS = {"resnet": ResNetStem, "vit": PatchEmbed}


def make_model(kind, in_chans, seed):
    torch.manual_seed(seed)
    model = MODELS[kind](in_chans)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)
    return model.eval()


def cmd_models(out_dir):
    """3-channel models saved as .pth (torch.save) and .safetensors."""
    for kind in MODELS:
        model = make_model(kind, 3, 1)
        torch.save(model.state_dict(), os.path.join(out_dir, kind + ".pth"))
        st_write(os.path.join(out_dir, kind + ".safetensors"), model.state_dict(), {"format": "pt"})
    half = collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in make_model("resnet", 3, 1).state_dict().items())
    st_write(os.path.join(out_dir, "resnet_f16.safetensors"), half)
    bf16 = collections.OrderedDict((k, v.bfloat16() if v.is_floating_point() else v) for k, v in make_model("resnet", 3, 1).state_dict().items())
    torch.save(bf16, os.path.join(out_dir, "resnet_bf16.pth"))
    print("ok")


def cmd_check_model(kind, original, adapted, channels):
    """The adapted state dict loads into an in_chans=N model (strict) and, with the new channels' weights
    zero (--init ...=0), gives the 3-channel model's output whatever the new channels hold."""
    channels = int(channels)
    old = make_model(kind, 3, 1)
    old.load_state_dict(load(original), strict=True)
    new = MODELS[kind](channels).eval()
    new.load_state_dict(load(adapted), strict=True)
    torch.manual_seed(5)
    x = torch.randn(2, channels, 32, 32)
    with torch.no_grad():
        a = old(x[:, :3])
        b = new(x)
    diff = (a - b).abs().max().item()
    assert diff <= 1e-5, "outputs differ by %g" % diff
    print("ok %g" % diff)


def bits(t):
    t = t.reshape(-1)
    return t if t.dtype == torch.bool else t.view(torch.uint8)


def cmd_batch(*commands):
    """Runs several commands (each a JSON list [command, args...]) in one interpreter: importing torch
    takes seconds. Prints the list of their results: what follows 'ok', or 'error: ...'."""
    import contextlib
    import traceback
    results = []
    for command in commands:
        name, *args = json.loads(command)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                globals()["cmd_" + name.replace("-", "_")](*[str(a) for a in args])
            results.append(out.getvalue().strip()[2:].strip())
        except Exception:
            results.append("error: " + traceback.format_exc(limit=2).strip().splitlines()[-1])
    print("ok " + json.dumps(results))


def cmd_compare(original, adapted, changed):
    """Every tensor but the changed ones is equal (bit for bit) in both; prints the changed tensors' values."""
    changed = set(c for c in changed.split(",") if c)
    a = load(original)
    b = load(adapted)
    assert list(a.keys()) == list(b.keys()), "keys differ"
    for k in a:
        if k in changed:
            continue
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert torch.equal(bits(a[k]), bits(b[k])), k
    out = {k: [NAMES[b[k].dtype], list(b[k].shape), b[k].detach().double().flatten().tolist()] for k in changed}
    print("ok " + json.dumps(out))


def cmd_st_check(path):
    tensors, metadata, order = st_read(path)
    print("ok " + json.dumps({"tensors": len(tensors), "metadata": metadata, "order": order}))


def cmd_pth_check(path):
    sd = torch.load(path, weights_only=True)
    print("ok " + json.dumps({"tensors": len(sd), "type": type(sd).__name__,
                              "metadata": hasattr(sd, "_metadata")}))


def optimizer_state(model):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(3)
    model.train()
    loss = model(torch.randn(2, 3, 32, 32)).pow(2).sum()
    loss.backward()
    opt.step()
    model.eval()
    return opt


def cmd_nested(out_dir):
    """A training checkpoint, a Lightning-like .ckpt and {"model": ...}, each after one Adam step."""
    model = make_model("resnet", 3, 1)
    opt = optimizer_state(model)
    torch.save({"state_dict": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3},
               os.path.join(out_dir, "train.pth"))
    lightning = {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.1.0",
                 "state_dict": collections.OrderedDict(("model." + k, v) for k, v in model.state_dict().items()),
                 "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4}}}},
                 "callbacks": {}, "optimizer_states": [opt.state_dict()], "lr_schedulers": [],
                 "hparams_name": "kwargs", "hyper_parameters": {"lr": 0.001, "in_chans": 3}}
    torch.save(lightning, os.path.join(out_dir, "lightning.ckpt"))
    torch.save({"model": model.state_dict()}, os.path.join(out_dir, "model.pt"))
    print("ok")


def cmd_check_nested(path, kind, channels, dropped):
    """Loads the adapted checkpoint into an in_chans=N model and its Adam optimizer, and takes a step."""
    channels = int(channels)
    ckpt = torch.load(path)
    if kind == "lightning":
        sd = collections.OrderedDict((k[len("model."):], v) for k, v in ckpt["state_dict"].items())
        opt_state = ckpt["optimizer_states"][0]
        assert ckpt["global_step"] == 120 and ckpt["hyper_parameters"]["lr"] == 0.001
    else:
        sd = ckpt["state_dict"]
        opt_state = ckpt["optimizer"]
        assert ckpt["epoch"] == 3
    model = MODELS["resnet"](channels)
    model.load_state_dict(sd, strict=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt.load_state_dict(opt_state)
    if dropped == "dropped":
        assert len(opt.state) == 0, "optimizer state left"
    else:
        state = opt.state[model.conv1.weight]
        assert state["exp_avg"].shape == model.conv1.weight.shape
        assert torch.count_nonzero(state["exp_avg"][:, 3:]) == 0 and torch.count_nonzero(state["exp_avg_sq"][:, 3:]) == 0
        assert torch.count_nonzero(state["exp_avg"][:, :3]) > 0
    model.train()
    model(torch.randn(2, channels, 32, 32)).pow(2).sum().backward()
    opt.step()
    print("ok")


def cmd_sharded(out_dir):
    """A Hugging Face-style sharded checkpoint of a model, three shards, conv1 in the first."""
    model = make_model("resnet", 3, 1)
    sd = model.state_dict()
    names = list(sd.keys())
    shards = [names[:2], names[2:5], names[5:]]
    weight_map = collections.OrderedDict()
    total = 0
    for i, part in enumerate(shards):
        shard = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        st_write(os.path.join(out_dir, shard), collections.OrderedDict((k, sd[k]) for k in part), {"format": "pt"})
        for k in part:
            weight_map[k] = shard
            total += sd[k].numel() * sd[k].element_size()
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    print("ok")


def cmd_check_sharded(index_path, channels):
    index = json.load(open(index_path))
    folder = os.path.dirname(index_path)
    sd = {}
    total = 0
    for shard in sorted(set(index["weight_map"].values())):
        tensors, _, _ = st_read(os.path.join(folder, shard))
        for k, v in tensors.items():
            assert index["weight_map"][k] == shard
            total += v.numel() * v.element_size()
        sd.update(tensors)
    assert total == index["metadata"]["total_size"], "total_size %d, tensors %d" % (index["metadata"]["total_size"], total)
    model = MODELS["resnet"](int(channels))
    model.load_state_dict(sd, strict=True)
    print("ok")


def cmd_views(out_dir):
    """State dicts whose input conv is a strided view, or shares its storage with another tensor."""
    model = make_model("resnet", 3, 1)
    sd = model.state_dict()
    w = sd["conv1.weight"]
    # the same values held transposed: a non-contiguous view of its own storage
    strided = w.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    assert not strided.is_contiguous()
    sd_view = collections.OrderedDict(sd)
    sd_view["conv1.weight"] = strided
    torch.save(sd_view, os.path.join(out_dir, "strided.pth"))
    big = torch.cat([w.flatten(), torch.randn(10)])
    sd_shared = collections.OrderedDict(sd)
    sd_shared["conv1.weight"] = big[: w.numel()].view(w.shape)
    sd_shared["extra"] = big[w.numel():]
    torch.save(sd_shared, os.path.join(out_dir, "shared.pth"))
    print("ok")


def cmd_bad(out_dir):
    """Files that must be refused."""
    model = make_model("resnet", 3, 1)
    sd = model.state_dict()
    torch.save(sd, os.path.join(out_dir, "legacy.pth"), _use_new_zipfile_serialization=False)
    with open(os.path.join(out_dir, "notzip.pth"), "wb") as f:
        f.write(b"this is not a checkpoint at all")
    torch.save(sd, os.path.join(out_dir, "good.pth"))

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo rechannel-must-never-run-this",))

    replace_pickle(os.path.join(out_dir, "good.pth"), os.path.join(out_dir, "global.pth"),
                   pickle.dumps({"conv1.weight": Evil()}, protocol=2))
    replace_pickle(os.path.join(out_dir, "good.pth"), os.path.join(out_dir, "opcode.pth"),
                   pickle.dumps({"a": 1}, protocol=0))
    st_write(os.path.join(out_dir, "good.safetensors"), sd)
    st_bad(out_dir, "lies.safetensors", lambda h: h["conv1.weight"]["data_offsets"].__setitem__(1, h["conv1.weight"]["data_offsets"][1] + 4))
    st_bad(out_dir, "overlap.safetensors", lambda h: h["bn1.weight"].__setitem__(
        "data_offsets", [h["conv1.weight"]["data_offsets"][0], h["conv1.weight"]["data_offsets"][0] + 32]))
    print("ok")


def cmd_detectron(out_dir):
    """A detectron2-style state dict: pixel_mean/pixel_std buffers [3, 1, 1] and a stem convolution."""
    torch.manual_seed(2)
    sd = collections.OrderedDict()
    sd["pixel_mean"] = torch.tensor([103.53, 116.28, 123.675]).view(3, 1, 1)
    sd["pixel_std"] = torch.tensor([57.375, 57.12, 58.395]).view(3, 1, 1)
    sd["backbone.bottom_up.stem.conv1.weight"] = torch.randn(8, 3, 7, 7)
    sd["backbone.bottom_up.stem.conv1.norm.weight"] = torch.rand(8)
    sd["backbone.bottom_up.res2.0.conv1.weight"] = torch.randn(8, 8, 1, 1)
    torch.save(sd, os.path.join(out_dir, "detectron.pth"))
    two = collections.OrderedDict(sd)
    two["stem.conv.weight"] = torch.randn(4, 3, 3, 3)
    torch.save(two, os.path.join(out_dir, "two_stems.pth"))
    print("ok")


def st_bad(out_dir, name, change):
    data = open(os.path.join(out_dir, "good.safetensors"), "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n], object_pairs_hook=collections.OrderedDict)
    change(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data[8 + n:])


def replace_pickle(source, target, data):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, data if item.filename.endswith("data.pkl") else zin.read(item.filename))


if __name__ == "__main__":
    command = sys.argv[1].replace("-", "_")
    globals()["cmd_" + command](*sys.argv[2:])
