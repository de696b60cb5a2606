"""Judge the quality targets of ``quality.py`` runs: met or missed, per dataset.

Usage::

    python benchmarks/targets.py RUN.json [RUN.json ...] [--markdown] \
        [--baselines-from RUN.json ...]

Each file is what ``quality.py --json`` writes: one seed, any datasets and
methods. The files are pooled: a dataset's seeds are averaged, and SepCLR's
rows may come from one run and the baselines' from another
(``--baselines-from`` takes only the baselines' rows of its files, so a run
of new SepCLR defaults can be judged against the baselines fitted beside
an older one). Rows are
compared seed by seed, so all of a dataset's files must share the sizes
and the baseline settings, and the seeds of one SepCLR variant its
training settings and the library defaults it ran under (the script
refuses to pool otherwise; for the networks left at their initial weights,
which take no step, the objective's weights and schedule do not count).
The targets, on the mean over the seeds:

1. **Salient probe.** SepCLR's salient space reads the salient attribute
   better than the best of cPCA (``contrastivepca``, ``contrastive_pkg``)
   and PCA on the same split, by at least 5 points on the image datasets
   (the best baseline is taken per seed, then averaged).
2. **Leakage.** The common space reads the salient attribute within 10
   points of chance, and the salient space reads the common attribute
   within 10 points of chance where the dataset has one.
3. **Collapse.** The background's mean salient-projection norm is under a
   tenth of the targets'.
4. **Ablations.** Without k-JEM (``sepclr_no_jem``) the common space reads
   more of the salient attribute than SepCLR's does; plain contrastive
   learning (``sepclr_plain``) does not separate: its one space reads the
   salient attribute more than 10 points over chance, so no space of it is
   free of the salient attribute.

Targets 1, 2 and 4 are judged on the representations (``sepclr``) and on
the projections (``sepclr@proj``); a verdict is ``met`` when the
representations meet it, ``met on projections`` when only those do,
``missed``, or ``not measured`` when the runs lack the rows it needs.
When the runs hold ``sepclr_untrained`` (quality.py's diagnostic: SepCLR's
networks at their initial weights) on the same seeds, the leakage rows
quote its probe too ("untrained"): what the training had to remove. When
they hold ``supervised`` (quality.py's yardstick: the salient encoder
trained with the labels) on every seed of the salient-probe verdict, that
row quotes its probe beside the score it had to reach ("supervised ...
for a target of ...", or "over ..." on tabular data, where any lead
meets it): whether the same encoder, told the labels, reads the attribute
well enough; and the ``s->c`` row on the representations quotes its
probe of the common attribute: how much of it the encoder keeps when the
salient labels alone train it. Neither diagnostic enters a verdict.
"""

import argparse
import json
import sys

import numpy as np
import pandas as pd

# The sibling module of quality.py's variants (a script's folder is first on
# sys.path); it imports no torch, so judging runs needs none.
from _variants import ignored_settings, variant_params

IMAGE_DATASETS = ("mnist_grass", "textures", "dsprites")
#: quality.py's order; other datasets follow, sorted.
DATASET_ORDER = ("blobs", "mice", *IMAGE_DATASETS)
#: Margin of the salient probe over the best baseline (0: strictly higher).
IMAGE_MARGIN = 0.05
LEAKAGE_MARGIN = 0.10
COLLAPSE_BOUND = 0.1
BASELINES = ("contrastivepca", "contrastive_pkg", "pca")
#: quality.py settings that change the split and the baselines' rows.
SPLIT_KEYS = ("n_samples", "image_size", "linear_components", "cpca_alpha", "standardize")
#: quality.py settings that change the SepCLR variants' fits.
SEPCLR_KEYS = (
    "epochs", "image_epochs", "sepclr_params", "augmentation_params",
    "cnn_widths", "cnn_strides", "jem_bandwidth", "lr_schedule",
)
FEATURES = {"representations": "", "projections": "@proj"}
#: quality.py's diagnostic of the networks at their initial weights: quoted
#: beside the leakage verdicts when the runs hold it.
UNTRAINED = "sepclr_untrained"
#: quality.py's supervised yardstick: quoted beside the salient-probe verdict.
SUPERVISED = "supervised"
#: Parameters added to SepCLRTransformer after runs were recorded, with the
#: value each was added with, which trains as the library did before it: a
#: record without the parameter counts as having that value.
INTRODUCED = {"background_spread_weight": 0.0, "decorrelation_encoder": "common"}


def _trains_like_sepclr(method):
    """Whether quality.py's SepCLR options shape the method's fit: the
    SepCLR variants', and the yardstick's (same encoder, views, epochs)."""
    return method.startswith("sepclr") or method == SUPERVISED


def load_runs(paths, baseline_paths=()):
    """Summary rows of the runs, one per (dataset, seed, method).

    ``baseline_paths`` are runs whose linear baselines' rows alone are
    taken (``BASELINES``; their other rows are left out): the baselines of
    a split do not depend on SepCLR's settings, so SepCLR runs under new
    defaults can be judged against the baselines fitted beside older ones.

    Returns a DataFrame with quality.py's summary columns plus ``seed``,
    ``split``, ``training`` and ``effective`` (the settings that made the
    split, quality.py's options for the fit, and those options with the
    library defaults they left, as JSON text), ``file`` and ``machine``
    (where it ran, as text).

    Raises
    ------
    ValueError
        If two files hold the same (dataset, seed, method), if a dataset's
        files disagree on the split, or if one method's seeds were trained
        with different settings or under different library defaults.
    """
    rows = []
    sources = [(p, False) for p in paths] + [(p, True) for p in baseline_paths]
    for path, baselines_only in sources:
        with open(path, encoding="utf-8") as file:
            payload = json.load(file)
        args = payload["args"]
        machine = _describe(payload.get("machine"))
        split = json.dumps({k: args.get(k) for k in SPLIT_KEYS}, sort_keys=True)
        training = json.dumps({k: args.get(k) for k in SEPCLR_KEYS}, sort_keys=True)
        for row in payload["summary"]:
            if baselines_only and row["method"] not in BASELINES:
                continue
            trained = _trains_like_sepclr(row["method"])
            effective = json.dumps(
                _effective_training(payload, row["dataset"], row["method"]), sort_keys=True
            ) if trained else ""
            rows.append({**row, "seed": args["seed"], "split": split,
                         "training": training if trained else "", "effective": effective,
                         "file": str(path), "machine": machine})
    if not rows:
        raise ValueError("the runs hold no summary rows")
    table = pd.DataFrame(rows)
    repeated = table[table.duplicated(["dataset", "seed", "method"], keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        raise ValueError(
            f"{first['dataset']}, seed {first['seed']}, {first['method']} is in more "
            f"than one file: {sorted(repeated.file[repeated.method == first['method']])}"
        )
    for dataset, group in table.groupby("dataset"):
        if group.split.nunique() > 1:
            raise ValueError(
                f"{dataset}: the files disagree on the split ({', '.join(SPLIT_KEYS)}); "
                f"pool only runs of one split: {sorted(group.split.unique())}"
            )
    sepclr = table[table.method.map(_trains_like_sepclr)]
    for (dataset, method), group in sepclr.groupby(["dataset", "method"]):
        if group.effective.nunique() > 1:
            raise ValueError(
                f"{dataset}, {method}: the seeds were trained with different settings "
                f"(quality.py's options, or the library defaults they left as they were): "
                f"{sorted(group.effective.unique())}"
            )
    return table


def _effective_training(payload, dataset, method):
    """What a run's ``method`` trained with on ``dataset``: quality.py's
    options, and the library's parameters under its ``--sepclr-param``
    values and what the method's variant sets over them (an ablation's
    terms off), each ``"auto"`` resolved for the kind of data.

    The defaults are quality.py's ``sepclr_defaults``, recorded since they
    first changed between runs; for older files the ``--sepclr-param``
    values stand alone. A default that a run sets explicitly does not tell
    two runs apart: ``n_common=16`` set under a default of 32 trains as a
    default of 16 does, and ``background_spread_weight=1`` on images set
    under a default of 0 trains as the image default ``"auto"`` (1.0) does.
    An ``"auto"`` rule for a parameter that the record does not list
    counts as it stands; a parameter added to the library after the run
    counts with the value it was added with (``INTRODUCED``). A default
    that the variant overrides does not tell two runs apart either: the
    plain ablation trains without the background-spread term whatever its
    default was. Nor does a setting that cannot change the method's result
    (``ignored_settings``): no weight of the objective reaches the networks
    left at their initial weights.
    """
    args = payload["args"]
    ignored_params, ignored_options = ignored_settings(method.removesuffix("@proj"))
    options = {k: args.get(k) for k in SEPCLR_KEYS
               if k != "sepclr_params" and k not in ignored_options}
    given = args.get("sepclr_params") or {}
    recorded = payload.get("sepclr_defaults")
    if recorded is None:
        return {"options": options, "sepclr_params": {
            k: v for k, v in given.items() if k not in ignored_params}}
    kind = "image" if dataset in IMAGE_DATASETS else "tabular"
    rules = recorded["auto"]

    def resolve(rule):
        return rule[kind] if isinstance(rule, dict) and kind in rule else rule

    def number(value):
        # 1 given on the command line trains as a default of 1.0.
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    overrides = variant_params(method.removesuffix("@proj"))
    params = {**INTRODUCED, **recorded["params"], **given, **overrides}
    resolved = {name: resolve(rules[name]) if value == "auto" and name in rules else value
                for name, value in params.items()}
    resolved.update({name: resolve(rule) for name, rule in rules.items()
                     if name not in params})
    return {"options": options, "params": {k: number(v) for k, v in resolved.items()
                                           if k not in ignored_params}}


def _describe(machine):
    """One line from quality.py's ``machine`` record (runs before it had none)."""
    if not machine:
        return "not recorded"
    where = machine.get("cuda") or machine.get("platform")
    cpu = ", ".join(
        str(machine[key]) for key in ("cpu_model", "cpu_capability") if machine.get(key)
    )
    return (f"{where}, {machine.get('cpu_count')} CPUs{f' ({cpu})' if cpu else ''}, "
            f"{machine.get('torch_threads')} torch threads, torch {machine.get('torch')}, "
            f"python {machine.get('python')}")


def _scores(table, dataset, method, column):
    """{seed: score} of one method's column, without missing values."""
    rows = table[(table.dataset == dataset) & (table.method == method)]
    if column not in rows:
        return {}
    return {s: v for s, v in zip(rows.seed, rows[column], strict=True) if pd.notna(v)}


def _diagnostic_mean(table, dataset, method, column, seeds):
    """Mean of a diagnostic method's column over ``seeds``, or ``None`` unless
    the runs hold it on every one of them (so it is quoted on the same
    seeds as the verdict beside it, or not at all)."""
    scores = _scores(table, dataset, method, column)
    if not set(seeds) <= set(scores):
        return None
    return np.mean([scores[s] for s in seeds])


def _seeds(seeds):
    """'1 seed' or 'n seeds'."""
    return f"{len(seeds)} seed" + ("s" if len(seeds) != 1 else "")


def _verdict(met):
    """Combine {features: bool or None} into one verdict."""
    if met.get("representations"):
        return "met"
    if met.get("projections"):
        return "met on projections"
    if all(v is None for v in met.values()):
        return "not measured"
    return "missed"


def _salient_probe(table, dataset, suffix):
    """Target 1 on one kind of features: (text, met) or (None, None)."""
    ours = _scores(table, dataset, "sepclr" + suffix, "s->s")
    baselines = [
        _scores(table, dataset, m, "all->s" if m == "pca" else "s->s") for m in BASELINES
    ]
    best = {}
    for seed in ours:
        values = [b[seed] for b in baselines if seed in b]
        if values:
            best[seed] = max(values)
    if not best:
        return None, None
    seeds = sorted(best)
    mean_ours = np.mean([ours[s] for s in seeds])
    mean_best = np.mean([best[s] for s in seeds])
    margin = IMAGE_MARGIN if dataset in IMAGE_DATASETS else 0.0

    def beats(a, b):
        # By the margin, or strictly higher where the margin is 0.
        return a - b >= margin if margin else a > b

    ahead = sum(beats(ours[s], best[s]) for s in seeds)
    quoted = f"{ahead} of {_seeds(seeds)} by the margin"
    # The encoder told the labels, against the same target (for information);
    # it has representations only.
    yardstick = None if suffix else _diagnostic_mean(table, dataset, SUPERVISED, "all->s", seeds)
    if yardstick is not None:
        goal = f"of {mean_best + margin:.3f}" if margin else f"over {mean_best:.3f}"
        quoted += f"; supervised {yardstick:.3f} for a target {goal}"
    text = (f"{mean_ours:.3f} vs {mean_best:.3f}: {100 * (mean_ours - mean_best):+.1f} pts "
            f"({quoted})")
    return text, bool(beats(mean_ours, mean_best))


def _bounded(table, dataset, method, column, chance_column, above=False, untrained=None,
             supervised=None):
    """Mean of a probe against chance + LEAKAGE_MARGIN: (text, met).

    Met when the mean is at most the bound, or over it when ``above``. When
    the runs hold the method ``untrained`` (the networks at their initial
    weights) on the same seeds, its mean is quoted too, for information (it
    does not enter the verdict); so is the column ``supervised`` of the
    supervised yardstick (``SUPERVISED``), when given and held on the same
    seeds: how much of the attribute the salient encoder keeps when it is
    trained with the salient labels alone.
    """
    scores = _scores(table, dataset, method, column)
    chance = _scores(table, dataset, method, chance_column)
    if not scores:
        return None, None
    mean = np.mean(list(scores.values()))
    bound = np.mean(list(chance.values())) + LEAKAGE_MARGIN
    met = mean > bound if above else mean <= bound
    seeds = _seeds(scores)
    before = None if untrained is None else _diagnostic_mean(
        table, dataset, untrained, column, scores)
    if before is not None:
        seeds += f"; untrained {before:.3f}"
    told = None if supervised is None else _diagnostic_mean(
        table, dataset, SUPERVISED, supervised, scores)
    if told is not None:
        seeds += f"; supervised {told:.3f}"
    return f"{mean:.3f} {'>' if above else '<='} {bound:.3f}? ({seeds})", bool(met)


def _collapse(table, dataset, suffix):
    """The background collapse: one number per fit, given with the representations."""
    scores = _scores(table, dataset, "sepclr", "collapse")
    if suffix or not scores:
        return None, None
    mean = np.mean(list(scores.values()))
    return f"{mean:.3f} ({_seeds(scores)})", bool(mean < COLLAPSE_BOUND)


def _no_jem(table, dataset, suffix):
    """Ablation: more leakage into the common space without k-JEM."""
    ours = _scores(table, dataset, "sepclr" + suffix, "c->s")
    ablated = _scores(table, dataset, "sepclr_no_jem" + suffix, "c->s")
    seeds = sorted(set(ours) & set(ablated))
    if not seeds:
        return None, None
    a, b = np.mean([ours[s] for s in seeds]), np.mean([ablated[s] for s in seeds])
    return f"{a:.3f} -> {b:.3f} ({_seeds(seeds)})", bool(b > a)


def judge(table):
    """The verdict table: one row per (dataset, target).

    Columns: ``dataset``, ``target``, one column per kind of features
    (the measured means and the number of seeds behind them, as text) and
    ``verdict``.
    """
    targets = {
        "s->s >= best linear + margin": _salient_probe,
        "c->s within 10 pts of chance": lambda t, d, s: _bounded(
            t, d, "sepclr" + s, "c->s", "chance_s", untrained=UNTRAINED + s),
        # The yardstick has representations only (the salient encoder's).
        "s->c within 10 pts of chance": lambda t, d, s: _bounded(
            t, d, "sepclr" + s, "s->c", "chance_c", untrained=UNTRAINED + s,
            supervised=None if s else "all->c"),
        "collapse < 0.1": _collapse,
        "no k-JEM: more c->s": _no_jem,
        # Plain contrastive learning does not separate: its one space reads s.
        "plain: one space reads s": lambda t, d, s: _bounded(
            t, d, "sepclr_plain" + s, "all->s", "chance_s", above=True),
    }
    rows = []
    order = [d for d in DATASET_ORDER if d in set(table.dataset)]
    for dataset in order + sorted(set(table.dataset) - set(order)):
        for name, rule in targets.items():
            row = {"dataset": dataset, "target": name}
            met = {}
            for features, suffix in FEATURES.items():
                row[features], met[features] = rule(table, dataset, suffix)
            if name.startswith("s->c") and all(v is None for v in met.values()):
                continue  # no common attribute: the target does not apply
            row["verdict"] = _verdict(met)
            rows.append(row)
    columns = ["dataset", "target", *FEATURES, "verdict"]
    return pd.DataFrame(rows, columns=columns).astype(object).fillna("")


def to_markdown(frame):
    """A GitHub-flavoured Markdown table of a DataFrame of strings."""
    lines = ["| " + " | ".join(frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN.json",
                        help="files written by quality.py --json")
    parser.add_argument("--baselines-from", nargs="+", default=[], metavar="RUN.json",
                        help="files written by quality.py --json whose linear baselines' "
                             "rows alone are pooled in (their SepCLR rows are left out)")
    parser.add_argument("--markdown", action="store_true",
                        help="print a Markdown table (default: plain text)")
    return parser


def main(argv=None):
    """Print the verdicts of the runs; return the verdict table."""
    args = build_parser().parse_args(argv)
    table = load_runs(args.runs, args.baselines_from)
    verdicts = judge(table)
    trainings = table[table.training != ""].drop_duplicates(["dataset", "method"])
    if args.markdown:
        print(to_markdown(verdicts))
    else:
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            print(verdicts.to_string(index=False))
    print("\nMachines:")
    for machine, files in table.groupby("machine").file:
        print(f"  {machine}: {files.nunique()} file(s)")
    print("\nSepCLR settings per method (quality.py options):")
    for row in trainings.itertuples():
        if not row.method.endswith("@proj"):
            print(f"  {row.dataset} {row.method}: {row.training}")
    return verdicts


if __name__ == "__main__":
    main(sys.argv[1:])
