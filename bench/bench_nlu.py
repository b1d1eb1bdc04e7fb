"""Routing quality: cross-validated accuracy, calibration and out-of-scope fallback (issue 12).

    python bench/bench_nlu.py [--folds 5] [--json]

For each real assistant export in ../shared/real/autopilot (Hospitality, AirlineReservations, HelloWorld,
RestaurantReservations, the autopilot-cli test assistant) and our example bot:

- **Cross-validated top-1 accuracy** (`nlu-eval --threshold 0`): stratified k-fold (each task's samples dealt
  round-robin, `holdout_groups`), train on the other folds, route each held-out sample (tags filled with a
  value). Routers: `model` (the default) and `lexical`; reference: a char+word TF-IDF linear classifier
  (scikit-learn: `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))` + word (1, 2), sublinear TF,
  `LinearSVC()`, and `LogisticRegression(C=10)`) trained on the same folds, on the same filled-in texts.
  The column is skipped, with a note, when scikit-learn is not installed (`pip install scikit-learn`).
- **Calibration**: accuracy and expected calibration error at the default threshold (0.4), as nlu-eval
  reports them (a fallback counts as wrong with confidence 0).
- **Out of scope**: the share of the off-topic messages in tests/data/offtopic_hotel.txt (62 messages no
  hotel bot handles) that fall back, on the Hospitality export and on examples/hospitality/assistant.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.engines.autopilot.runtime import AutopilotRuntime  # noqa: E402
from harness.insight.lint_rules import holdout_groups, sample_utterance, without_samples  # noqa: E402
from harness.insight.nlu_eval import evaluate  # noqa: E402
from harness.models.assistant import Assistant  # noqa: E402
from harness.models.assistant_loader import load_assistant  # noqa: E402

SHARED = Path(os.environ.get("AUTOPILOT_HARNESS_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "real" / "autopilot"
BOTS = {
    "Hospitality": REAL / "Hospitality" / "schema.json",
    "AirlineReservations": REAL / "assistants" / "AirlineReservations" / "schema.json",
    "HelloWorld": REAL / "assistants" / "HelloWorld" / "schema.json",
    "RestaurantReservations": REAL / "assistants" / "RestaurantReservations" / "schema.json",
    "autopilot-cli": REAL / "autopilot-cli" / "test_assistant.json",
    "example (ours)": ROOT / "examples" / "hospitality" / "assistant.json",
}
OFF_TOPIC = ROOT / "tests" / "data" / "offtopic_hotel.txt"
OFF_TOPIC_BOTS = ("Hospitality", "example (ours)")
ROUTERS = ("model", "lexical")


def off_topic_messages() -> list[str]:
    return [line.strip() for line in OFF_TOPIC.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def sklearn_accuracy(assistant: Assistant, folds: int) -> dict[str, float] | None:
    """Top-1 accuracy of two char+word TF-IDF linear classifiers on the same folds; None without sklearn."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union
        from sklearn.svm import LinearSVC
    except ImportError:
        return None
    results = {}
    classifiers = (("LinearSVC", LinearSVC), ("LogisticRegression", lambda: LogisticRegression(C=10, max_iter=2000)))
    for name, make in classifiers:
        right = total = 0
        for group in holdout_groups(assistant, folds):
            held = set(group)
            train = without_samples(assistant, held)
            texts = [sample_utterance(assistant, t, s.tagged_text) for t in train.tasks for s in t.samples]
            labels = [t.unique_name for t in train.tasks for s in t.samples]
            features = make_union(
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True))
            model = make_pipeline(features, make()).fit(texts, labels)
            for i, j in group:
                task = assistant.tasks[i]
                text = sample_utterance(assistant, task, task.samples[j].tagged_text)
                right += model.predict([text])[0] == task.unique_name
                total += 1
        results[name] = right / total
    return results


def off_topic_fallback(assistant: Assistant, router: str) -> tuple[float, list[str]]:
    """The share of off-topic messages that fall back at the default threshold, and those that did not."""
    trained = AutopilotRuntime(router=router).train(assistant)
    routed = []
    messages = off_topic_messages()
    for text in messages:
        routing = trained.route(text)
        if routing.task is not None:
            routed.append(f"{text} → {routing.task} ({routing.confidence:.2f})")
    return 1 - len(routed) / len(messages), routed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for name, path in BOTS.items():
        if not path.exists():
            print(f"skipped {name}: {path} not found", file=sys.stderr)
            continue
        assistant = load_assistant(path)
        row: dict[str, object] = {"assistant": name,
                                  "samples": sum(len(t.samples) for t in assistant.tasks)}
        for router in ROUTERS:
            top1 = evaluate(assistant, folds=args.folds, threshold=0.0, router=router).cross_validation
            default = evaluate(assistant, folds=args.folds, router=router).cross_validation
            row[router] = {"top1": round(top1.accuracy, 4), "accuracy_at_0.4": round(default.accuracy, 4),
                           "ece_at_0.4": round(default.expected_calibration_error, 4),
                           "ece_top1": round(top1.expected_calibration_error, 4)}
            if name in OFF_TOPIC_BOTS:
                share, routed = off_topic_fallback(assistant, router)
                row[router]["off_topic_fallback"] = round(share, 4)
                row[router]["off_topic_routed"] = routed
        reference = sklearn_accuracy(assistant, args.folds)
        row["sklearn"] = {k: round(v, 4) for k, v in reference.items()} if reference else \
            "skipped: scikit-learn is not installed (pip install scikit-learn)"
        rows.append(row)
    if args.json:
        print(json.dumps({"folds": args.folds, "rows": rows, "python": sys.version.split()[0],
                          "date": time.strftime("%Y-%m-%d")}, indent=2))
        return
    print(f"{args.folds}-fold cross-validation, top-1 accuracy (threshold 0) | accuracy and ECE at threshold 0.4")
    print(f"{'assistant':<24} {'n':>4} {'model':>7} {'lexical':>8} {'SVC':>7} {'LR':>7} | "
          f"{'model acc/ECE':>14} {'lexical acc/ECE':>16} | off-topic fallback model / lexical")
    for row in rows:
        ref = row["sklearn"] if isinstance(row["sklearn"], dict) else {}
        model, lexical = row["model"], row["lexical"]
        off = (f"{model['off_topic_fallback']:.1%} / {lexical['off_topic_fallback']:.1%}"
               if "off_topic_fallback" in model else "")
        print(f"{row['assistant']:<24} {row['samples']:>4} {model['top1']:7.1%} {lexical['top1']:8.1%} "
              f"{ref.get('LinearSVC', float('nan')):7.1%} {ref.get('LogisticRegression', float('nan')):7.1%} | "
              f"{model['accuracy_at_0.4']:7.1%}/{model['ece_at_0.4']:.3f} "
              f"{lexical['accuracy_at_0.4']:9.1%}/{lexical['ece_at_0.4']:.3f} | {off}")
    if any(not isinstance(row["sklearn"], dict) for row in rows):
        print("note: the SVC/LR columns need scikit-learn (pip install scikit-learn)")
    for row in rows:
        for router in ROUTERS:
            for line in row[router].get("off_topic_routed", []):
                print(f"  {row['assistant']} [{router}] routed off-topic: {line}")


if __name__ == "__main__":
    main()
