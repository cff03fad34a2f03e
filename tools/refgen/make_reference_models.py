"""Makes the extra reference models EdgeNet's tests compare against (run on a machine with PyTorch + ONNX Runtime).

Each model: <name>.onnx (+ .onnx.data for external data), <name>_input.npy, <name>_output_ort.npy, and, for
models with a training reference, <name>_sgd_losses.npy and <name>_sgd_params.npz / _grads0.npz (PyTorch).
Small random weights (seed 0); inputs are random too. Run: python3 make_reference_models.py OUTDIR
"""
import json, os, sys, traceback
import numpy as np
import torch, torch.nn as nn
import onnx, onnxruntime as ort

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
rng = np.random.default_rng(0)
manifest = {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__, "models": {}}


class LastStep(nn.Module):
    def __init__(self, rnn, hidden, classes=10):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1, :])


class ActsCnn(nn.Module):
    """Every activation and pooling the runtime supports, with strides, pads, dilation and a depthwise conv."""
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.a1 = nn.LeakyReLU(0.1)
        self.p1 = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)
        self.dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.a2 = nn.Tanh()
        self.c2 = nn.Conv2d(8, 12, 1)
        self.a3 = nn.Sigmoid()
        self.c3 = nn.Conv2d(12, 12, (3, 2), stride=(2, 1), padding=(1, 0), groups=4)
        self.a4 = nn.ReLU6()
        self.p2 = nn.MaxPool2d(2, stride=2, padding=1)
        self.head = nn.Linear(12, 10)

    def forward(self, x):
        x = self.p1(self.a1(self.c1(x)))
        x = self.a2(self.dw(x))
        x = self.a3(self.c2(x))
        x = self.p2(self.a4(self.c3(x)))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.softmax(self.head(x), dim=1)


class BnExplicit(nn.Module):
    """BatchNorm that cannot fold into a preceding Conv (it follows a ReLU), 2-D and 1-D."""
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 4 * 4, 16)
        self.bn1 = nn.BatchNorm1d(16)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = self.bn(torch.relu(self.c(x)))
        x = torch.nn.functional.avg_pool2d(x, 2).flatten(1)
        return self.head(self.bn1(torch.relu(self.fc(x))))


class Elementwise(nn.Module):
    """Broadcasting Add/Mul/Sub/Div, Transpose, Concat, Reshape."""
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(1, 8, 1) + 0.5)
        self.shift = nn.Parameter(torch.randn(8))
        self.fc = nn.Linear(16, 5)

    def forward(self, x):          # x [N, 8, 8]
        a = x * self.scale - self.shift
        b = (x + 1.0) / (self.scale + 1.0)
        t = torch.transpose(a, 1, 2)
        c = torch.cat([t, b], dim=2)        # [N, 8, 16]
        y = self.fc(c)                      # MatMul + Add (3-D)
        return y.reshape(y.shape[0], -1)


def randomize_bn(m):
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.3, 0.3)


def export(name, model, shape, dynamo=False, opset=17, external=False, train_ref=False):
    model.eval()
    randomize_bn(model)
    x = rng.standard_normal(shape).astype(np.float32)
    path = os.path.join(out, name + ".onnx")
    kw = dict(input_names=["input"], output_names=["output"])
    if dynamo:
        torch.onnx.export(model, (torch.from_numpy(x),), path, dynamo=True, opset_version=opset,
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, external_data=external, **kw)
    else:
        torch.onnx.export(model, (torch.from_numpy(x),), path, dynamo=False, opset_version=opset,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kw)
        if external:
            m = onnx.load(path)
            onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                      location=name + ".onnx.data", size_threshold=0)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        yt = model(torch.from_numpy(x)).numpy()
    np.save(os.path.join(out, name + "_input.npy"), x)
    np.save(os.path.join(out, name + "_output_ort.npy"), y)
    ops = sorted({n.op_type for n in onnx.load(path, load_external_data=False).graph.node})
    entry = {"input_shape": list(shape), "ops": ops, "opset": opset, "exporter": "dynamo" if dynamo else "torchscript",
             "external_data": external, "max_abs_torch_vs_ort": float(np.abs(y - yt).max())}
    if train_ref:
        entry["train"] = train_reference(name, model, x)
    manifest["models"][name] = entry
    print(name, entry["ops"], entry["max_abs_torch_vs_ort"])


def train_reference(name, model, x):
    """5 SGD(momentum 0.9) steps, batch 8, mean cross-entropy, eval mode: losses, grads at step 0, params after."""
    labels = rng.integers(0, 10, size=40).astype(np.int64)
    xs = rng.standard_normal((40,) + x.shape[1:]).astype(np.float32)
    np.save(os.path.join(out, name + "_train_x.npy"), xs)
    np.save(os.path.join(out, name + "_train_y.npy"), labels)
    model.eval()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for k in range(5):
        opt.zero_grad()
        logits = model(torch.from_numpy(xs[8 * k:8 * k + 8]))
        loss = nn.functional.cross_entropy(logits, torch.from_numpy(labels[8 * k:8 * k + 8]))
        loss.backward()
        if k == 0:
            np.savez(os.path.join(out, name + "_grads0.npz"),
                     **{n: p.grad.detach().numpy() for n, p in model.named_parameters()})
        losses.append(float(loss))
        opt.step()
    np.savez(os.path.join(out, name + "_params5.npz"),
             **{n: p.detach().numpy() for n, p in model.named_parameters()})
    return {"optimizer": "SGD", "lr": 0.05, "momentum": 0.9, "batch": 8, "losses": losses,
            "param_names": [n for n, _ in model.named_parameters()]}


jobs = [
    ("gru_bi2", lambda: LastStep(nn.GRU(8, 16, num_layers=2, bidirectional=True, batch_first=True), 32), (5, 8, 8), {}),
    ("gru1", lambda: LastStep(nn.GRU(8, 16, batch_first=True), 16), (5, 8, 8), {"train_ref": True}),
    ("rnn_tanh2", lambda: LastStep(nn.RNN(8, 16, num_layers=2, batch_first=True), 16), (5, 8, 8), {"train_ref": True}),
    ("rnn_relu_bi", lambda: LastStep(nn.RNN(8, 12, nonlinearity="relu", bidirectional=True, batch_first=True), 24), (5, 8, 8), {}),
    ("lstm_bi2", lambda: LastStep(nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True), 32), (5, 8, 8), {}),
    ("acts_cnn", ActsCnn, (3, 3, 17, 15), {"train_ref": False}),
    ("acts_cnn_dynamo18", ActsCnn, (3, 3, 17, 15), {"dynamo": True, "opset": 18}),
    ("acts_cnn_ext", ActsCnn, (3, 3, 17, 15), {"external": True}),
    ("bn_explicit", BnExplicit, (4, 1, 8, 8), {}),
    ("bn_explicit_dynamo18", BnExplicit, (4, 1, 8, 8), {"dynamo": True, "opset": 18}),
    ("elementwise", Elementwise, (3, 8, 8), {}),
    ("elementwise_dynamo18", Elementwise, (3, 8, 8), {"dynamo": True, "opset": 18, "external": True}),
    ("gru_bi2_opset18", lambda: LastStep(nn.GRU(8, 16, num_layers=2, bidirectional=True, batch_first=True), 32), (5, 8, 8), {"opset": 18}),
]
for name, make, shape, kw in jobs:
    try:
        torch.manual_seed(len(name))
        export(name, make(), shape, **kw)
    except Exception:
        traceback.print_exc()
        manifest["models"][name] = {"error": traceback.format_exc()[-2000:]}

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
