"""armcount_table.py ROWS OUT COMMIT [BEFORE]: the markdown table of bench/armcount.sh's counts (rows: name cpu engine
total simd ldst branch other); BEFORE, rows of the same form from an earlier build, adds EdgeNet's earlier total."""
import datetime, sys

rows, out, commit = sys.argv[1:4]
before_rows = sys.argv[4] if len(sys.argv) > 4 else None
names = {"har-fp32": "HAR LSTM fp32", "har-int8": "HAR LSTM int8 (ORT: its dynamic int8 model)",
         "mnv2-035-fp32": "MobileNetV2-0.35-96 fp32", "mnv2-035-int8": "MobileNetV2-0.35-96 int8 (ORT's QDQ model)",
         "blazeface-128": "BlazeFace-128 fp32", "ultraface-slim": "UltraFace-slim-320 fp32",
         "mnv2-100-fp32": "MobileNetV2-1.0-224 fp32", "mnv2-100-int8": "MobileNetV2-1.0-224 int8 (ORT's QDQ model)",
         "gru-kws-128": "GRU keyword spotter (100×40, GRU 128 lbr 1) fp32",
         "gru-kws-64-lbr0": "GRU keyword spotter (100×40, GRU 64 lbr 0) fp32",
         "oww-mel": "openWakeWord melspectrogram (1 s) fp32", "oww-embedding": "openWakeWord embedding fp32",
         "oww-alexa": "openWakeWord alexa head fp32", "oww-mycroft": "openWakeWord hey_mycroft head fp32",
         "silero-vad": "Silero VAD v5 (512 samples) fp32", "minilm-14": "all-MiniLM-L6-v2 [1,14] fp32",
         # ARMCOUNT_SET=families (random weights, exporter-shaped graphs; ResNet-18 and the PP-OCR models are real files)
         "ppocr-cls": "PP-OCR cls (48×192) fp32", "mnv3-small": "MobileNetV3-small-224 fp32", "yunet-320": "YuNet-320 fp32",
         "ssdlite-320": "SSD-lite-320 (MobileNetV2) fp32", "shufflenetv2": "ShuffleNetV2-1.0-224 fp32",
         "squeezenet11": "SqueezeNet-1.1-224 fp32", "effnet-lite0": "EfficientNet-lite0-224 fp32", "yolov5n-320": "YOLOv5n-320 fp32",
         "yolov8n-320": "YOLOv8n-320 fp32", "effnet-b0": "EfficientNet-B0-224 fp32", "unet-256": "U-Net-256 (16 channels) fp32",
         "resnet18": "ResNet-18 fp32", "resnet26": "ResNet-26-224 (bottlenecks) fp32", "densenet121": "DenseNet-121-224 fp32",
         "ppocrv4-det": "PP-OCRv4 det (480×640) fp32"}
def load(path):
    d = {}
    for line in open(path):
        f = line.split()
        if len(f) == 8: d[(f[0], f[1], f[2])] = [int(v) for v in f[3:]]
    return d
d = load(rows)
before = load(before_rows) if before_rows else {}
count = lambda v: f"{v[0]:,}" if v else "–"
classes = lambda v: " / ".join(f"{x / 1e6:.2f}M" for x in v[1:]) if v else "–"
lines = [f"# arm64 instructions per inference, EdgeNet vs ONNX Runtime ({commit}, {datetime.date.today()})", "",
         "Written by `bench/armcount.sh` (../shared/armcount: qemu-aarch64 as a Pi 4, cortex-a72, and a Pi 5, cortex-a76; one",
         "thread, batch 1; EdgeNet's NativeAOT binary against ONNX Runtime 1.31's MLAS on the same input). A proxy for time",
         "(no caches, no issue width), exact and deterministic. Classes: simd (NEON/FP data processing) / ldst (loads, stores)",
         "/ branch / other (scalar integer).", "",
         "| model | CPU | EdgeNet | ORT | EdgeNet/ORT | EdgeNet simd / ldst / branch / other | ORT simd / ldst / branch / other | EdgeNet before |",
         "|---|---|---|---|---|---|---|---|"]
for n, label in names.items():
    for cpu in ["cortex-a72", "cortex-a76"]:
        e, o = d.get((n, cpu, "edgenet")), d.get((n, cpu, "ort"))
        if e or o:
            ratio = f"{e[0] / o[0]:.2f}" if e and o else "–"
            b = before.get((n, cpu, "edgenet"))
            was = f"{b[0]:,} ({b[0] / o[0]:.2f})" if b and o else count(b)
            lines.append(f"| {label} | {cpu[7:].upper()} | {count(e)} | {count(o)} | {ratio} | {classes(e)} | {classes(o)} | {was} |")
for cpu in ["cortex-a72", "cortex-a76"]:
    f, q = d.get(("mnv2-100-fp32", cpu, "edgenet")), d.get(("mnv2-100-int8", cpu, "edgenet"))
    if f and q: lines.append(f"\nMobileNetV2-1.0-224 on {cpu[7:].upper()}: EdgeNet's int8 runs {q[0] / f[0]:.2f}× its own fp32 instructions.")
open(out, "w").write("\n".join(lines) + "\n")
print(f"wrote {out}")
