#!/usr/bin/python3
"""softpool <-> PyTorch: weights both ways through safetensors files (read and written with numpy
alone, no safetensors package), and a PyTorch LeNet-5 with SoftPool composed stably.

  /usr/bin/python3 tools/pytorch/recipe.py self-test
  /usr/bin/python3 tools/pytorch/recipe.py evaluate WEIGHTS [--data DIR]     # a softpool file in PyTorch
  /usr/bin/python3 tools/pytorch/recipe.py train OUT [--data DIR] [--epochs N] # PyTorch -> softpool file

`evaluate` loads a file from `pnpm train --export-weights` and reports test accuracy with the normalisation stored in its metadata. `train` trains the same
network in PyTorch and writes a file that `pnpm train --eval-only --resume OUT` evaluates.
Needs Debian's python3-torch and python3-numpy; the data are Debian's dataset-fashion-mnist.
"""
import argparse
import gzip
import json
import pathlib
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DEBIAN_DATA = "/usr/share/datasets/fashion-mnist"
SAFETENSORS_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


# ---- safetensors with numpy --------------------------------------------------------------------
def read_safetensors(path):
    """(tensors as numpy arrays, metadata). BF16 entries are widened to float32."""
    data = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    body = data[8 + n :]
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        raw = body[start:end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(SAFETENSORS_DTYPES[entry["dtype"]]).newbyteorder("<"))
        tensors[name] = array.reshape(entry["shape"]).copy()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes numpy arrays (float32/float64/int) in safetensors' layout, atomically."""
    names = {np.dtype(v): k for k, v in SAFETENSORS_DTYPES.items()}
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format aligns the body to 8 bytes
    tmp = pathlib.Path(f"{path}.tmp")
    tmp.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    tmp.replace(path)


# ---- the model ---------------------------------------------------------------------------------
class SoftPool2d(nn.Module):
    """SoftPool, stably: each window's maximum is subtracted before the exponent (exact, any size)."""

    def __init__(self, kernel_size=2, stride=None):
        super().__init__()
        self.k, self.s = kernel_size, stride or kernel_size

    def forward(self, x):
        windows = x.unfold(2, self.k, self.s).unfold(3, self.k, self.s).flatten(-2)  # [N, C, Ho, Wo, k*k]
        e = torch.exp(windows - windows.amax(dim=-1, keepdim=True))
        return (e * windows).sum(-1) / e.sum(-1)


class LeNet5(nn.Module):
    """softpool's LeNet-5 (models/src/lenet.ts): same layers, same parameter names."""

    def __init__(self, pool="soft"):
        super().__init__()
        make = {"soft": SoftPool2d, "max": lambda: nn.MaxPool2d(2), "avg": lambda: nn.AvgPool2d(2)}[pool]
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = make()
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = make()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


# ---- data --------------------------------------------------------------------------------------
def load_split(data_dir, split, mean, std):
    prefix = {"train": "train", "test": "t10k"}[split]
    with gzip.open(f"{data_dir}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{data_dir}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(images.astype(np.float32)) / 255 - mean) / std
    return x, torch.from_numpy(labels.astype(np.int64))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(x[i : i + 500]).argmax(1) == y[i : i + 500]).sum()) for i in range(0, len(y), 500))
    return correct, len(y)


# ---- commands ----------------------------------------------------------------------------------
def evaluate(args):
    tensors, metadata = read_safetensors(args.weights)
    if metadata.get("format") != "softpool-weights-1":
        sys.exit(f"{args.weights}: not a weights file of pnpm train --export-weights (format {metadata.get('format')!r})")
    pool = json.loads(metadata["args"])["pool"]
    norm = json.loads(metadata["normalization"])
    model = LeNet5(pool)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()})
    x, y = load_split(args.data, "test", norm["mean"][0], norm["std"][0])
    correct, total = accuracy(model, x, y)
    print(f"PyTorch test accuracy of {args.weights} ({pool} pooling): {100 * correct / total:.2f}% ({correct}/{total})")


def train(args):
    torch.manual_seed(args.seed)
    mean, std = 0.286, 0.353
    x, y = load_split(args.data, "train", mean, std)
    xt, yt = load_split(args.data, "test", mean, std)
    model = LeNet5("soft")
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            idx = order[i : i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        correct, total = accuracy(model, xt, yt)
        print(f"epoch {epoch + 1}: PyTorch test accuracy {100 * correct / total:.2f}% ({correct}/{total})")
    write_safetensors(
        args.out,
        {k: v.detach().numpy() for k, v in model.state_dict().items()},
        {
            "format": "softpool-weights-1",
            "args": json.dumps({"model": "lenet5", "pool": "soft"}),
            "inputShape": json.dumps([1, 28, 28]),
            "normalization": json.dumps({"mean": [mean], "std": [std], "of": "pixel / 255"}),
            "library": f"torch {torch.__version__} (tools/pytorch/recipe.py)",
        },
    )
    print(f"wrote {args.out}: evaluate it with pnpm train --eval-only --resume {args.out} --data {args.data}")


def self_test(_args):
    # The reference window (shared/reference/pooling.md): [1, 2, 4, 5] -> 4.58878.
    y = SoftPool2d(2)(torch.tensor([[[[1.0, 2.0], [4.0, 5.0]]]], dtype=torch.float64)).item()
    assert abs(y - 4.58878) < 1e-5, y
    # Stable for large activations where a naive exp overflows.
    big = SoftPool2d(2)(torch.tensor([[[[1000.0, 999.0], [0.0, -1000.0]]]]))
    assert torch.isfinite(big).all(), big
    # safetensors round trip, and bfloat16 decoding (1.0 and -2.5 are exact in bfloat16).
    path = pathlib.Path("/tmp/softpool-recipe-selftest.safetensors")
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, -2], dtype=np.int64)}
    write_safetensors(path, arrays, {"k": "v"})
    back, meta = read_safetensors(path)
    assert meta == {"k": "v"} and all(np.array_equal(back[k], arrays[k]) for k in arrays)
    bf16 = np.array([0x3F80, 0xC020], dtype="<u2").tobytes()
    header = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bf16)
    assert read_safetensors(path)[0]["x"].tolist() == [1.0, -2.5]
    path.unlink()
    print("self-test ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("self-test").set_defaults(run=self_test)
    e = sub.add_parser("evaluate")
    e.add_argument("weights")
    e.add_argument("--data", default=DEBIAN_DATA)
    e.set_defaults(run=evaluate)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--data", default=DEBIAN_DATA)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--seed", type=int, default=1)
    t.set_defaults(run=train)
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
