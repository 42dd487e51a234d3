"""Write and execute the example notebooks: ``python notebooks/_build.py`` (``--no-execute`` to skip running).

One short notebook per everyday question. Cells are kept here as plain
strings so a review sees the code; the .ipynb files are generated, executed
(nbclient) and committed WITH their outputs, so numbers and plots show on
GitHub and in the docs site. tests/test_notebooks.py re-executes them, checks
their asserts and that the saved numbers are the ones a fresh run prints.
Notebooks use the public API only (no ``maskjax._private`` imports).
"""

from __future__ import annotations

import os
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}


def notebook(name: str, *cells: tuple[str, str]) -> None:
    NOTEBOOKS[name] = list(cells)


md = lambda text: ("md", text.strip("\n"))  # noqa: E731
code = lambda text: ("code", text.strip("\n"))  # noqa: E731

SETUP = """
import numpy as np
import jax.numpy as jnp
import matplotlib.pyplot as plt
import maskjax
import maskjax.plot
from maskjax import metrics as M
"""

notebook(
    "01_per_class_metrics",
    md("""
# Accuracy, precision and recall of one class in a multi-class model

A 3-class classifier; class 2 is rare. What is *its* precision and recall, and
what does "accuracy of class 2" mean?
"""),
    code(SETUP + """
rng = np.random.default_rng(0)
y = rng.choice(3, size=400, p=[0.6, 0.3, 0.1])
logits = rng.normal(size=(400, 3)).astype(np.float32)
logits[np.arange(400), y] += 1.5
kw = dict(task="multiclass", num_classes=3)
"""),
    md("`average=None` gives one value per class; index the class you care about."),
    code("""
precision = M.precision(logits, y, average=None, **kw)
recall = M.recall(logits, y, average=None, **kw)
f1 = M.f1_score(logits, y, average=None, **kw)
cm = M.confusion_matrix(logits, y, **kw)
r3 = lambda v: np.asarray(v, np.float64).round(3)   # float32 -> readable
print("precision per class", r3(precision))
print("recall per class   ", r3(recall))
print("F1 per class       ", r3(f1))
cm_np = np.asarray(cm)
assert np.isclose(recall[2], cm_np[2, 2] / cm_np[2].sum())      # row of the confusion matrix
assert np.isclose(precision[2], cm_np[2, 2] / cm_np[:, 2].sum())  # column
"""),
    md("""
"Accuracy of class 2" has two meanings. torchmetrics' per-class accuracy
(`accuracy(average=None)`) is the recall of the class: the share of class-2
items predicted as 2. The one-vs-rest accuracy ("is it class 2 or not?") also
counts the true negatives, so a rare class scores high by doing nothing.
"""),
    code("""
per_class_acc = M.accuracy(logits, y, average=None, **kw)
pred = np.asarray(logits).argmax(-1)
one_vs_rest = M.accuracy((pred == 2).astype(np.int32), (y == 2).astype(np.int32), task="binary")
always_no = M.accuracy(np.zeros_like(y), (y == 2).astype(np.int32), task="binary")
print(f"per-class accuracy of class 2 (= recall): {float(per_class_acc[2]):.3f}")
print(f"one-vs-rest accuracy of class 2:          {float(one_vs_rest):.3f}")
print(f"one-vs-rest accuracy of 'never class 2':  {float(always_no):.3f}")
assert np.isclose(per_class_acc[2], recall[2])
assert float(always_no) > 0.85
"""),
    md("`maskjax.plot` draws the results: the confusion matrix (colour = row share, i.e. recall) and the per-class numbers."),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
maskjax.plot.confusion_matrix(cm, display_labels=["a", "b", "c (rare)"], ax=axes[0])
maskjax.plot.per_class({"precision": precision, "recall": recall, "F1": f1},
                       class_names=["a", "b", "c (rare)"], ax=axes[1], ylabel="score")
plt.show()
"""),
)

notebook(
    "02_padded_sequences",
    md("""
# Metrics that ignore padded timesteps

Sequences of different lengths are padded to one shape. The padding has a
label (0 here) and the model "predicts" it perfectly, so unmasked numbers look
better than the model is. A `mask` (from the lengths) removes it from every
numerator *and* denominator.
"""),
    code(SETUP + """
from types import SimpleNamespace

def sequence_batch(batch=32, maxlen=40, num_classes=5, seed=0):
    \"\"\"A tagger's outputs on padded sequences (the data `maskjax demo` uses).\"\"\"
    rng = np.random.default_rng(seed)
    lengths = rng.integers(maxlen // 4, maxlen + 1, size=batch).astype(np.int32)
    probs = np.array([0.6, 0.2, 0.1, 0.07, 0.03])[:num_classes]
    labels = rng.choice(num_classes, size=(batch, maxlen), p=probs / probs.sum()).astype(np.int32)
    logits = rng.normal(0.0, 1.0, size=(batch, maxlen, num_classes)).astype(np.float32)
    logits += 1.5 * np.eye(num_classes, dtype=np.float32)[labels]
    pad = np.arange(maxlen)[None, :] >= lengths[:, None]
    labels[pad] = 0                      # the pad id is class 0 ...
    logits[pad] = 0.0
    logits[pad, 0] = 8.0                 # ... and the model "predicts" it confidently
    return SimpleNamespace(logits=logits, labels=labels, lengths=lengths, num_classes=num_classes)

data = sequence_batch(seed=0)
mask = maskjax.masks.from_lengths(data.lengths, data.logits.shape[1])
print("logits", data.logits.shape, "labels", data.labels.shape, "real steps", int(mask.sum()), "of", mask.size)
kw = dict(task="multiclass", num_classes=data.num_classes, from_logits=True)
"""),
    code("""
rows = {
    "accuracy": lambda **m: M.accuracy(data.logits, data.labels, **kw, **m),
    "macro F1": lambda **m: M.f1_score(data.logits, data.labels, average="macro", **kw, **m),
    "recall of class 0": lambda **m: M.recall(data.logits, data.labels, average=None, **kw, **m)[0],
    "cross-entropy": lambda **m: maskjax.losses.cross_entropy(data.logits, data.labels, **m),
}
table = {name: (float(f()), float(f(mask=mask))) for name, f in rows.items()}
for name, (naive, masked) in table.items():
    print(f"{name:18s} naive {naive:.4f}   masked {masked:.4f}")
"""),
    md("The masked accuracy is exactly the accuracy over the real tokens, selected by hand:"),
    code("""
keep = np.asarray(mask)
by_hand = (data.logits.argmax(-1)[keep] == data.labels[keep]).mean()
assert np.isclose(table["accuracy"][1], by_hand)
assert table["accuracy"][0] > table["accuracy"][1]        # the padding inflates the naive number
"""),
    code("""
fig, ax = plt.subplots(figsize=(7, 3))
maskjax.plot.per_class({"naive (unmasked)": [v[0] for v in table.values()],
                        "masked": [v[1] for v in table.values()]},
                       class_names=list(table), ax=ax, title="padding inflates the naive numbers")
ax.set_xlabel("")
plt.show()
"""),
)

notebook(
    "03_weights_and_conventions",
    md("""
# What `sample_weight` and `class_weight` do to a loss and to metrics

Every maskjax loss and metric folds `mask · sample_weight · class_weight[target]`
into one per-element weight `w`. Frameworks then disagree on the denominator:

| `reduction` | formula | who uses it |
|---|---|---|
| `"mean"` | Σ w·ℓ / Σ w | torch `mean` with `weight=` |
| `"sum_over_batch_size"` | Σ w·ℓ / N | Keras 3 default |
| `"sum_by_nonzero_weights"` | Σ w·ℓ / #(w ≠ 0) | TF1 `compute_weighted_loss`, Keras 2 |
"""),
    code(SETUP + """
import torch
rng = np.random.default_rng(0)
logits = rng.normal(size=(8, 3)).astype(np.float32)
y = np.array([0, 1, 2, 0, 1, 2, 0, 0])
sw = np.array([1.0, 2.0, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0], np.float32)   # two samples weighted out
cw = np.array([0.5, 1.0, 4.0], np.float32)                            # class weights
per_elem = np.asarray(maskjax.losses.cross_entropy(logits, y, reduction="none"))
"""),
    code("""
results = {}
for reduction in ("mean", "sum_over_batch_size", "sum_by_nonzero_weights", "sum"):
    results[reduction] = float(maskjax.losses.cross_entropy(logits, y, sample_weight=sw, reduction=reduction))
    print(f"{reduction:24s} {results[reduction]:.4f}")
w = sw
assert np.isclose(results["mean"], (w * per_elem).sum() / w.sum(), rtol=1e-5)
assert np.isclose(results["sum_over_batch_size"], (w * per_elem).sum() / len(w), rtol=1e-5)
assert np.isclose(results["sum_by_nonzero_weights"], (w * per_elem).sum() / (w != 0).sum(), rtol=1e-5)
"""),
    md("""
`class_weight` with `reduction="mean"` is torch's `cross_entropy(weight=...)`:
the denominator is the sum of the weights of the targets' classes.
"""),
    code("""
ours = float(maskjax.losses.cross_entropy(logits, y, class_weight=cw))
theirs = float(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y), weight=torch.tensor(cw)))
print(f"maskjax {ours:.6f}   torch {theirs:.6f}")
assert np.isclose(ours, theirs, rtol=1e-5)
"""),
    md("""
Metrics honour the same weights (scikit-learn's `sample_weight`): a sample of
weight 0 counts nowhere, a weight of 2 counts twice. The class weight also
applies to metrics, which torch and Keras metrics ignore.
"""),
    code("""
kw = dict(task="multiclass", num_classes=3)
plain = M.recall(logits, y, average=None, **kw)
weighted = M.recall(logits, y, average=None, sample_weight=sw, **kw)
pred = logits.argmax(-1)
by_hand = [((pred == c) & (y == c)) @ sw / ((y == c) @ sw) if (y == c) @ sw else 0.0 for c in range(3)]
print("recall          ", np.round(plain, 3))
print("weighted recall ", np.round(weighted, 3))
assert np.allclose(weighted, by_hand, rtol=1e-5)
"""),
    code("""
fig, ax = plt.subplots(figsize=(6, 3))
maskjax.plot.per_group(results, ax=ax, ylabel="weighted cross-entropy", title="one loss, four reductions")
ax.set_xlabel("reduction")
plt.show()
"""),
)

notebook(
    "04_thresholds",
    md("""
# Thresholds: distances, probabilities, best threshold, curves, calibration

A siamese network outputs distances: *small* means "same". Pass
`lower_is_positive=True` and the threshold applies the other way round
(positive iff `d < threshold`).
"""),
    code(SETUP + """
d = jnp.array([1.5, 0.7, 0.1, 0.3, 3.2])
same = jnp.array([1, 0, 0, 1, 0])
acc = M.accuracy(d, same, task="binary", threshold=0.5, lower_is_positive=True)
print("accuracy at 0.5:", float(acc))
assert abs(float(acc) - 0.6) < 1e-6
"""),
    md("""
`best_threshold` tries every cut and returns one that reproduces its value
through the metrics' strict comparison.
"""),
    code("""
t, value = M.best_threshold(d, same, criterion="accuracy", lower_is_positive=True)
again = M.accuracy(d, same, task="binary", threshold=t, lower_is_positive=True)
print(f"best threshold {float(t):.4f} -> accuracy {float(value):.2f}")
assert np.isclose(float(again), float(value))
"""),
    md("Probabilities of a larger binary model: ROC and PR curves, AUROC and AP (exact, as scikit-learn)."),
    code("""
rng = np.random.default_rng(0)
y = rng.integers(0, 2, 2000)
logit = 1.4 * (2 * y - 1) + rng.normal(size=2000)
p = (1 / (1 + np.exp(-1.6 * logit))).astype(np.float32)     # over-confident probabilities
roc = M.roc_curve(p, y)
pr = M.precision_recall_curve(p, y)
auc, ap = float(M.auroc(p, y)), float(M.average_precision(p, y))
t_f1, f1 = M.best_threshold(p, y, criterion="f1")
print(f"AUROC {auc:.4f}  AP {ap:.4f}  best F1 {float(f1):.4f} at threshold {float(t_f1):.3f}")
assert np.isclose(float(M.f1_score(p, y, task="binary", threshold=t_f1)), float(f1))
from sklearn.metrics import roc_auc_score, average_precision_score
assert np.isclose(auc, roc_auc_score(y, p)) and np.isclose(ap, average_precision_score(y, p))
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
maskjax.plot.roc_curve({f"model (AUC {auc:.3f})": roc}, ax=axes[0])
maskjax.plot.precision_recall_curve({f"model (AP {ap:.3f})": pr}, baseline=y.mean(), ax=axes[1])
plt.show()
"""),
    md("Calibration: are the probabilities honest? ECE and a reliability diagram."),
    code("""
ece = float(M.calibration_error(p, y, n_bins=10))
diag = M.reliability_diagram(p, y, n_bins=10)
print(f"ECE {ece:.4f}")
fig, ax = plt.subplots(figsize=(5, 4.5))
maskjax.plot.reliability_diagram(diag, ece=ece, ax=ax)
plt.show()
assert 0.0 < ece < 0.5
"""),
    md("""
How sure is the AUROC, and is it the same on every data source? `M.Grouped` computes
any metric per group id in one pass, `M.Bootstrap` adds percentile intervals (a
streaming Poisson bootstrap), and `maskjax.plot.per_group` draws the result.
Here source 2 is noisier.
"""),
    code("""
source = rng.integers(0, 3, 2000)
p_src = (1 / (1 + np.exp(-(logit + (source == 2) * rng.normal(0, 2.5, 2000))))).astype(np.float32)
boot = M.Bootstrap(M.Grouped(M.AUROC(task="binary", thresholds=200), num_groups=3), num_replicates=300, seed=0)
out = boot.compute(boot.update(boot.init(), p_src, y, groups=source))
for k in range(3):
    print(f"source {k}: AUROC {float(out['value'][k]):.4f}   95% interval "
          f"[{float(out['lower'][k]):.4f}, {float(out['upper'][k]):.4f}]")
from sklearn.metrics import roc_auc_score
for k in range(3):   # binned (200 thresholds) vs scikit-learn's exact AUROC on the group's rows
    assert abs(float(out["value"][k]) - roc_auc_score(y[source == k], p_src[source == k])) < 2e-3
assert float(out["upper"][2]) < float(out["lower"][0])   # the noisy source is clearly worse
fig, ax = plt.subplots(figsize=(5, 3))
maskjax.plot.per_group(out, group_names=["source 0", "source 1", "source 2"], ax=ax, ylabel="AUROC",
                       title="AUROC per source, 95% bootstrap interval")
ax.set_ylim(0.5, 1.0)
plt.show()
"""),
)

notebook(
    "05_sparse_multilabel",
    md("""
# Sparse multi-label: why "99% accuracy" means nothing

100 labels, 2% of them positive. A model that predicts *no label at all* is
98% "accurate", because accuracy counts every (sample, label) pair.
"""),
    code(SETUP + """
rng = np.random.default_rng(0)
n, L = 500, 100
y = (rng.random((n, L)) < 0.02).astype(np.int32)
nothing = np.zeros((n, L), np.float32)                       # always "no"
model = np.where(y == 1, rng.uniform(0.4, 1.0, (n, L)), rng.uniform(0.0, 0.505, (n, L))).astype(np.float32)
kw = dict(task="multilabel", num_classes=L)
"""),
    code("""
def scores(p):
    return {
        "accuracy (element-wise)": float(M.accuracy(p, y, **kw)),
        "hamming distance": float(M.hamming_distance(p, y, **kw)),
        "exact match": float(M.exact_match(p, y, **kw)),
        "micro F1": float(M.f1_score(p, y, average="micro", **kw)),
        "macro F1": float(M.f1_score(p, y, average="macro", **kw)),
        "samples F1": float(M.f1_score(p, y, average="samples", **kw)),
    }
table = {"predict nothing": scores(nothing), "model": scores(model)}
for name in table["model"]:
    print(f"{name:24s} nothing {table['predict nothing'][name]:.3f}   model {table['model'][name]:.3f}")
assert table["predict nothing"]["accuracy (element-wise)"] > 0.97
assert table["predict nothing"]["micro F1"] == 0.0
assert table["model"]["micro F1"] > 0.5
"""),
    md("""
Look at F1 (micro for the overall hit rate, macro to weigh rare labels
equally), exact match (the share of samples with every label right) and the
per-label recall of the labels you care about.
"""),
    code("""
per_label = np.asarray(M.recall(model, y, average=None, **kw))
print("lowest per-label recall", per_label.min().round(3), "of label", int(per_label.argmin()))
fig, ax = plt.subplots(figsize=(9, 2.8))
maskjax.plot.per_class({"recall": per_label[:20]}, ax=ax, title="per-label recall of the model (first 20 labels)")
ax.set_xlabel("label")
plt.show()
"""),
)

notebook(
    "06_segmentation",
    md("""
# Imbalanced segmentation: dice + BCE, class-weighted pixel loss

Binary masks where ~3% of the pixels are foreground. Plain pixel-wise BCE is
dominated by the background; dice looks at the overlap; a class weight on the
BCE re-balances it.
"""),
    code(SETUP + """
rng = np.random.default_rng(0)
B, H, W = 8, 32, 32
yy, xx = np.mgrid[:H, :W]
centers = rng.integers(6, 26, (B, 2)); radii = rng.integers(2, 5, B)
target = ((yy[None] - centers[:, 0, None, None]) ** 2 + (xx[None] - centers[:, 1, None, None]) ** 2
          <= radii[:, None, None] ** 2).astype(np.float32)
logits = (3.0 * target - 1.5 + rng.normal(0, 1.2, target.shape)).astype(np.float32)
print("foreground share:", target.mean().round(4))
"""),
    code("""
L = maskjax.losses
bce = float(L.binary_cross_entropy(logits, target))
# dice: one channel on the last axis (sigmoid), summed over each image's pixels, averaged over images
dice = float(L.dice_loss(logits[..., None], target[..., None]))
fg = target.mean()
bce_pos = float(L.binary_cross_entropy(logits, target, pos_weight=(1 - fg) / fg))   # torch's pos_weight
print(f"BCE {bce:.4f}   dice loss {dice:.4f}   dice + BCE {dice + bce:.4f}   BCE with pos_weight {bce_pos:.4f}")
"""),
    md("""
The same pixels as a 2-class problem (background, foreground) with scikit-learn's
"balanced" class weights: `reduction="mean"` divides by the summed weights
(torch's `cross_entropy(weight=...)`).
"""),
    code("""
logits2 = np.stack([np.zeros_like(logits), logits], axis=-1)        # softmax of [0, z] = sigmoid(z)
labels = target.astype(np.int32)
cw = maskjax.weights.balanced(labels, 2)
ce_w = float(L.cross_entropy(logits2, labels, class_weight=cw))
per_pixel = np.asarray(L.cross_entropy(logits2, labels, reduction="none"))
w = np.asarray(cw)[labels]
print("class weights", np.round(np.asarray(cw), 3), " class-weighted CE", round(ce_w, 4))
assert np.isclose(ce_w, (w * per_pixel).sum() / w.sum(), rtol=1e-5)
"""),
    md("Metrics on the thresholded masks: Dice and IoU of the foreground, and pixel accuracy for contrast."),
    code("""
kw = dict(task="binary", from_logits=True)
dice_score = float(M.dice_score(logits, target, **kw))
iou = float(M.jaccard_index(logits, target, **kw))
pixel_acc = float(M.accuracy(logits, target, **kw))
pred = logits > 0
tp, fp, fn = (pred & (target == 1)).sum(), (pred & (target == 0)).sum(), (~pred & (target == 1)).sum()
print(f"dice {dice_score:.4f}   IoU {iou:.4f}   pixel accuracy {pixel_acc:.4f}")
assert np.isclose(dice_score, 2 * tp / (2 * tp + fp + fn), rtol=1e-5)
assert np.isclose(iou, tp / (tp + fp + fn), rtol=1e-5)
"""),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(8, 3))
for ax, img, title in zip(axes, [target[0], 1 / (1 + np.exp(-logits[0])), pred[0]],
                          ["target", "probability", "prediction"]):
    ax.imshow(img, cmap="gray"); ax.set_title(title); ax.axis("off")
plt.show()
"""),
)

notebook(
    "07_training_loops",
    md("""
# Streaming metrics in a Flax training loop, and the same metrics from PyTorch

One static `Collection` (accuracy, precision, recall, F1 share one counting
state; the loss is a `Mean`) is carried through a jitted step. Every batch has
the same padded shape, so the step compiles once.
"""),
    code(SETUP + """
import jax, optax
from flax import nnx

C, F, BATCH = 3, 6, 64
rng = np.random.default_rng(0)
centers = rng.normal(0, 1.5, (C, F))
y_all = rng.integers(0, C, 600).astype(np.int32)
x_all = (centers[y_all] + rng.normal(0, 1, (600, F))).astype(np.float32)

def batches(x, y):
    for s in range(0, len(y), BATCH):
        xb, yb = x[s:s + BATCH], y[s:s + BATCH]
        pad = BATCH - len(yb)
        yield np.pad(xb, ((0, pad), (0, 0))), np.pad(yb, (0, pad)), np.arange(BATCH) < len(yb)

conf = dict(task="multiclass", num_classes=C)
METRICS = M.Collection(accuracy=M.Accuracy(**conf), f1=M.F1Score(**conf, average="macro"),
                       recall=M.Recall(**conf, average=None), loss=M.Mean())
"""),
    code("""
model = nnx.Linear(F, C, rngs=nnx.Rngs(0))
optimizer = nnx.Optimizer(model, optax.adam(5e-2), wrt=nnx.Param)

@nnx.jit
def train_step(model, optimizer, state, x, y, mask):
    def loss_fn(model):
        logits = model(x)
        return maskjax.losses.cross_entropy(logits, y, mask=mask), logits
    (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
    optimizer.update(model, grads)
    per_row = maskjax.losses.cross_entropy(logits, y, reduction="none")
    return METRICS.update(state, logits, y, mask=mask, loss=per_row)

for epoch in range(3):
    state = METRICS.init()
    for xb, yb, mb in batches(x_all, y_all):
        state = train_step(model, optimizer, state, xb, yb, mb)
    print(epoch, {k: np.asarray(v, np.float64).round(3).tolist() for k, v in METRICS.compute(state).items()})
"""),
    md("The streamed state equals the one-shot metric on everything at once:"),
    code("""
eval_step = jax.jit(lambda state, logits, y, mask: METRICS.update(state, logits, y, mask=mask,
                                                                   loss=jnp.zeros(BATCH)))
state = METRICS.init()
for xb, yb, mb in batches(x_all, y_all):
    state = eval_step(state, model(xb), yb, mb)
streamed = METRICS.compute(state)
one_shot = M.f1_score(model(x_all), y_all, average="macro", **conf)
print("streamed F1", round(float(streamed["f1"]), 4), " one-shot F1", round(float(one_shot), 4))
assert np.isclose(float(streamed["f1"]), float(one_shot))
"""),
    md("""
## The NNX way: `maskjax.flax.Metric` in an `nnx.MultiMetric`

`maskjax.flax.Metric` wraps any maskjax metric or `Collection` as an
`nnx.Metric`: `update(logits=..., labels=..., mask=...)` in place (also inside
`nnx.jit`), `compute()`, `reset()`. It sits next to Flax's own metrics in an
`nnx.MultiMetric`, and its value is the core metric's.
"""),
    code("""
import maskjax.flax

metrics = nnx.MultiMetric(
    core=maskjax.flax.Metric(METRICS),                          # the Collection above, one shared state
    auroc=maskjax.flax.Metric(M.AUROC(**conf, from_logits=True, thresholds=200)),
    flax_accuracy=nnx.metrics.Accuracy(),                       # Flax's own metric, same keywords
)

@nnx.jit
def eval_nnx(model, metrics, x, y, mask):
    logits = model(x)
    metrics.update(logits=logits, labels=y, mask=mask, loss=maskjax.losses.cross_entropy(logits, y, reduction="none"))

metrics.reset()
for xb, yb, mb in batches(x_all, y_all):
    eval_nnx(model, metrics, xb, yb, mb)
out = metrics.compute()
print("maskjax accuracy", round(float(out["core"]["accuracy"]), 4), " AUROC", round(float(out["auroc"]), 4))
assert np.isclose(float(out["core"]["f1"]), float(one_shot))
assert np.isclose(float(out["auroc"]), float(M.auroc(model(x_all), y_all, **conf, from_logits=True, thresholds=200)))
fig, ax = plt.subplots(figsize=(5, 3))
maskjax.plot.per_class({"recall": out["core"]["recall"]}, ax=ax, ylabel="recall", title="per-class recall after training")
plt.show()
"""),
    md("""
## The same metrics from a PyTorch loop

`maskjax.torch` takes tensors and returns tensors; `maskjax.torch.metrics.F1Score`
is a torchmetrics-style stateful wrapper (`update` / `compute` / `reset`) and
`maskjax.torch.losses.cross_entropy` is differentiable in torch.
"""),
    code("""
import torch
import maskjax.torch as mt

torch.manual_seed(0)
net = torch.nn.Linear(F, C)
opt = torch.optim.Adam(net.parameters(), lr=5e-2)
f1 = mt.metrics.F1Score(**conf, average="macro")
for epoch in range(3):
    f1.reset()
    for xb, yb, mb in batches(x_all, y_all):
        xb, yb, mb = torch.from_numpy(xb), torch.from_numpy(yb).long(), torch.from_numpy(mb)
        logits = net(xb)
        loss = mt.losses.cross_entropy(logits, yb, mask=mb)
        opt.zero_grad(); loss.backward(); opt.step()
        f1.update(logits.detach(), yb, mask=mb)
    print(epoch, "loss", round(float(loss.detach()), 4), "macro F1", round(float(f1.compute()), 4))
"""),
    code("""
with torch.no_grad():
    all_logits = net(torch.from_numpy(x_all))
f1.reset()
for s, (_, yb, mb) in zip(range(0, 600, BATCH), batches(x_all, y_all)):
    lb = torch.nn.functional.pad(all_logits[s:s + BATCH], (0, 0, 0, BATCH - len(all_logits[s:s + BATCH])))
    f1.update(lb, torch.from_numpy(yb).long(), mask=torch.from_numpy(mb))
streamed = float(f1.compute())
one_shot = float(mt.metrics.f1_score(all_logits, torch.from_numpy(y_all).long(), average="macro", **conf))
print(streamed, one_shot)
assert isinstance(f1.compute(), torch.Tensor)
assert np.isclose(streamed, one_shot)
"""),
)


def execute(nb: nbformat.NotebookNode, cwd: str, timeout: int = 300) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel (the repo on PYTHONPATH); raises on any error or failed assert."""
    from nbclient import NotebookClient

    repo = os.path.dirname(HERE)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = repo + (os.pathsep + old if old else "")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": cwd}}).execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return nb


def build(run: bool = True, names: list[str] | None = None) -> list[str]:
    paths = []
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = new_notebook(cells=[new_markdown_cell(t) if kind == "md" else new_code_cell(t) for kind, t in cells])
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"   # stable ids: a rebuild only changes what changed
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        if run:
            execute(nb, HERE)
            nb.metadata["language_info"] = {"name": "python"}
        path = os.path.join(HERE, name + ".ipynb")
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    args = sys.argv[1:]
    for p in build(run="--no-execute" not in args, names=[a for a in args if not a.startswith("--")] or None):
        print(p)
